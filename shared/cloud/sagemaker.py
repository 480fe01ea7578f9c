"""The AWS calls of the SageMaker Processing path: create, describe and stop a processing job, and the
S3 copy of a job input too long for its environment. Nothing here knows about stages or providers
(``shared.providers.sagemaker_processing`` is the cloud provider built on these).

Plain functions over a boto3 client the caller passes in, so the cloud task owns scheduling (it
re-checks with a countdown instead of blocking a worker) and tests can point the client at a local
SageMaker-compatible server.
"""

from __future__ import annotations

import hashlib
import re

from shared.config import Settings
from shared.errors import MMFError, ProviderUnavailable

JOB_JSON_ENV = "MMF_JOB_JSON"
JOB_KEY_ENV = "MMF_JOB_KEY"
# CreateProcessingJob refuses environment values longer than this; longer job JSON goes through S3.
MAX_ENV_VALUE_CHARS = 256
MAX_JOB_NAME_CHARS = 63
# Tags that by convention are moved to each new build: pinning one pins nothing.
MOVING_TAGS = frozenset({"latest", "stable", "main", "master", "dev", "develop", "edge", "nightly"})
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NOT_FOUND_CODES = frozenset({"ValidationException", "ResourceNotFound"})


class SageMakerConfigError(MMFError):
    """The cloud path is misconfigured (image, role, output location); no job was submitted."""

    code = "sagemaker_config"


def check_available(settings: Settings, provider: str = "sagemaker") -> None:
    """Raise ``ProviderUnavailable`` unless this server can submit processing jobs: S3 store, role, pinned image.

    The one check behind every sagemaker provider's ``check_available``; ``provider`` names it in the messages.
    """
    if not settings.resolved_object_store_url.startswith("s3://"):
        raise ProviderUnavailable(f"the {provider} provider needs an S3 object store (OBJECT_STORE_URL=s3://…)")
    if not settings.sagemaker_role_arn:
        raise ProviderUnavailable(f"the {provider} provider needs SAGEMAKER_ROLE_ARN")
    try:
        check_image_uri(settings.sagemaker_image_uri, settings.sagemaker_allow_mutable_tag)
    except SageMakerConfigError as error:
        raise ProviderUnavailable(f"the {provider} provider is not configured: {error}") from None


def check_image_uri(uri: str, allow_mutable: bool = False) -> str:
    """Return ``uri`` if it pins one image build, else raise ``SageMakerConfigError`` saying how to pin it.

    A moving tag lets a re-run or a rollback silently get different code than the job that is
    being reproduced, so only a digest or a release tag is accepted unless explicitly allowed.
    """
    if not uri:
        raise SageMakerConfigError("SAGEMAKER_IMAGE_URI is not set")
    name, at, digest = uri.partition("@")
    if at and not _DIGEST.match(digest):
        raise SageMakerConfigError(f"image URI {uri!r}: the digest must be sha256:<64 lowercase hex digits>")
    slash, colon = name.rfind("/"), name.rfind(":")
    has_tag = colon > slash
    repository, tag = (name[:colon], name[colon + 1:]) if has_tag else (name, "")
    if not repository or (has_tag and not _TAG.match(tag)):
        raise SageMakerConfigError(f"image URI {uri!r} is not repository[:tag] or repository@sha256:<digest>")
    if at or allow_mutable:
        return uri
    how = ("pin a release tag (.../mmf-envgen:sprint2-release) or a digest (.../mmf-envgen@sha256:<digest>), "
           "or set SAGEMAKER_ALLOW_MUTABLE_TAG=true for experiments")
    if not tag:
        raise SageMakerConfigError(f"image URI {uri!r} has no tag, so it means :latest, which moves; {how}")
    if tag.lower() in MOVING_TAGS:
        raise SageMakerConfigError(f"image URI {uri!r} uses the moving tag :{tag}; {how}")
    return uri


def processing_job_name(job_id: str) -> str:
    """The processing job's name, a pure function of the job id, so a re-sent task finds its job.

    The readable part keeps the console searchable by job id; the hash keeps ids that differ only
    in characters SageMaker names cannot hold (or beyond the length limit) apart.
    """
    if not job_id:
        raise ValueError("job_id must not be empty")
    digest = hashlib.sha256(job_id.encode()).hexdigest()[:10]
    readable = re.sub(r"[^A-Za-z0-9]+", "-", job_id).strip("-")
    readable = readable[: MAX_JOB_NAME_CHARS - len("mmf--") - len(digest)]
    return f"mmf-{readable}-{digest}" if readable else f"mmf-{digest}"


def sagemaker_client(settings: Settings):
    """A boto3 SageMaker client for the configured region (and endpoint, for a local test server)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"})
    return boto3.client("sagemaker", region_name=settings.aws_region, endpoint_url=settings.sagemaker_endpoint_url,
                        config=config)


def _error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def _exists(client, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.describe_processing_job(ProcessingJobName=name)
    except ClientError as error:
        if _error_code(error) in _NOT_FOUND_CODES:
            return False
        raise
    return True


def _job_environment(settings: Settings, job_json: str, output_s3_uri: str, input_key: str) -> dict[str, str]:
    """Inline JSON when it fits SageMaker's limit, else the key of a copy in the output bucket."""
    if len(job_json) <= MAX_ENV_VALUE_CHARS:
        return {JOB_JSON_ENV: job_json}
    from shared.storage.factory import open_object_store

    open_object_store(settings.model_copy(update={"object_store_url": output_s3_uri})).put_bytes(
        input_key, job_json.encode(), "application/json")
    return {JOB_KEY_ENV: input_key}


def start_processing_job(
    client, settings: Settings, job_id: str, job_json: str, output_s3_uri: str, input_key: str
) -> str:
    """Start the processing job for ``job_id`` and return its name; if it already exists, just the name.

    ``job_json`` is what the container runs (``MMF_JOB_JSON``, or at ``input_key`` in the output bucket
    when longer than an environment value may be); ``output_s3_uri`` is the object store's root,
    ``s3://bucket[/prefix]``, which the container writes ``jobs/<job_id>/…`` under. Safe to call again
    for the same job: at-least-once delivery of the submitting task must not start a second (billed) job.
    """
    image = check_image_uri(settings.sagemaker_image_uri, settings.sagemaker_allow_mutable_tag)
    if not settings.sagemaker_role_arn:
        raise SageMakerConfigError("SAGEMAKER_ROLE_ARN is not set")
    if not output_s3_uri.startswith("s3://") or len(output_s3_uri) > MAX_ENV_VALUE_CHARS:
        raise SageMakerConfigError(f"output location {output_s3_uri!r} must be an s3://bucket[/prefix] URL")
    name = processing_job_name(job_id)
    if _exists(client, name):
        return name
    from botocore.exceptions import ClientError

    environment = {
        "OBJECT_STORE_URL": output_s3_uri,
        "AWS_REGION": settings.aws_region,
        **_job_environment(settings, job_json, output_s3_uri, input_key),
    }
    try:
        client.create_processing_job(
            ProcessingJobName=name,
            # One instance: the entrypoint runs the whole job; a second would build the same scene again.
            ProcessingResources={"ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": settings.sagemaker_instance_type,
                "VolumeSizeInGB": settings.sagemaker_volume_gb,
            }},
            StoppingCondition={"MaxRuntimeInSeconds": settings.sagemaker_max_runtime_s},
            AppSpecification={"ImageUri": image},
            Environment=environment,
            RoleArn=settings.sagemaker_role_arn,
            Tags=[{"Key": "mmf:job_id", "Value": job_id}],
        )
    except ClientError:
        # Lost a race with another delivery of the same task: its job is ours too.
        if _exists(client, name):
            return name
        raise
    return name


def describe(client, name: str) -> tuple[str, str | None]:
    """``(status, failure_reason)``: InProgress, Completed, Failed, Stopping or Stopped, and why it failed.

    The reason joins SageMaker's own (often just "AlgorithmError") with the container's exit message,
    where the entrypoint writes the actual error.
    """
    response = client.describe_processing_job(ProcessingJobName=name)
    status = response["ProcessingJobStatus"]
    reasons = [response.get("FailureReason")]
    if status != "Completed":
        reasons.append(response.get("ExitMessage"))
    return status, "; ".join(r for r in reasons if r) or None


def stop(client, name: str) -> None:
    """Ask SageMaker to stop the processing job; one that already ended stays as it ended."""
    from botocore.exceptions import ClientError

    if describe(client, name)[0] in TERMINAL_STATUSES | {"Stopping"}:
        return
    try:
        client.stop_processing_job(ProcessingJobName=name)
    except ClientError as error:
        # It ended between the two calls: nothing left to stop.
        if _error_code(error) != "ValidationException":
            raise
