"""SageMaker Processing, the cloud path of the env job and of asset reconstruction: submit once, then poll.

Plain functions over a boto3 client the caller passes in, so the sagemaker queue's task owns
scheduling (it re-checks with a countdown instead of blocking a worker) and tests can point the
client at a local SageMaker-compatible server. The processing container runs
``infra/sagemaker/entrypoint_processing.py``, which reads the job from its environment and writes
``jobs/<job_id>/…`` to the same object store the service uses: for an env job the whole scene (its
manifest last, as ``cloud_scene.json``), for a text_to_3d / image_to_3d job only ``reconstruction.glb``
from the views already stored there (``cloud_reconstruction.json`` last).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.config import Settings
from shared.errors import MMFError, ProviderError, ProviderUnavailable
from shared.pipeline.context import job_key
from shared.providers.env_sagemaker import SageMakerEnvGenerator, SageMakerEnvOptions
from shared.providers.reconstruct_sagemaker import SageMakerReconstructOptions, SageMakerReconstructor
from shared.providers.registry import names

if TYPE_CHECKING:
    from shared.pipeline.context import StageContext

JOB_JSON_ENV = "MMF_JOB_JSON"
JOB_KEY_ENV = "MMF_JOB_KEY"
JOB_INPUT_ARTIFACT = "processing_input.json"
# CreateProcessingJob refuses environment values longer than this; longer job JSON goes through S3.
MAX_ENV_VALUE_CHARS = 256
MAX_JOB_NAME_CHARS = 63
# Tags that by convention are moved to each new build: pinning one pins nothing.
MOVING_TAGS = frozenset({"latest", "stable", "main", "master", "dev", "develop", "edge", "nightly"})
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
JobKind = Literal["env", "text_to_3d", "image_to_3d"]
ASSET_KINDS = frozenset({"text_to_3d", "image_to_3d"})
# The stages the container runs for each kind (an asset job's views are made before, its post-processing after).
CONTAINER_STAGES: dict[str, tuple[str, ...]] = {
    "env": ("plan", "env"),
    "text_to_3d": ("reconstruct",),
    "image_to_3d": ("reconstruct",),
}
# The stage a cloud provider stands in for, per kind, and the options model naming the provider it runs inside.
_CLOUD_STAGES: dict[str, tuple[str, str, type[BaseModel]]] = {
    "env": ("env", SageMakerEnvGenerator.name, SageMakerEnvOptions),
    "text_to_3d": ("reconstruct", SageMakerReconstructor.name, SageMakerReconstructOptions),
    "image_to_3d": ("reconstruct", SageMakerReconstructor.name, SageMakerReconstructOptions),
}

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NOT_FOUND_CODES = frozenset({"ValidationException", "ResourceNotFound"})


class SageMakerConfigError(MMFError):
    """The cloud path is misconfigured (image, role, output location); no job was submitted."""

    code = "sagemaker_config"


class ProcessingRequest(BaseModel):
    """The part of a job request the container needs; the rest of the record stays behind."""

    model_config = ConfigDict(extra="ignore")

    prompt: str | None = None
    plan: dict[str, Any] | None = None
    seed: int = 0
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ProcessingJobInput(BaseModel):
    """What travels to the container, and what it checks on arrival: a job record cut to what it runs."""

    model_config = ConfigDict(extra="ignore")

    job_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    kind: JobKind = "env"
    request: ProcessingRequest
    providers: dict[str, str]
    created_at: str | None = None

    @model_validator(mode="after")
    def _runnable(self) -> ProcessingJobInput:
        stages = CONTAINER_STAGES[self.kind]
        if set(self.providers) != set(stages):
            raise ValueError(f"providers of a {self.kind} job must name exactly the {' and '.join(stages)} providers")
        cloud_stage, cloud_name, _ = _CLOUD_STAGES[self.kind]
        if self.providers[cloud_stage] == cloud_name:
            raise ValueError(f"the container runs a local {cloud_stage} provider; "
                             f"resolve {cloud_name!r} before submitting")
        for stage, name in self.providers.items():
            if name not in names(stage):
                raise ValueError(f"unknown {stage} provider {name!r} (known: {', '.join(names(stage))})")
        return self


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


def container_job_input(job_input: dict[str, Any]) -> ProcessingJobInput:
    """The job as the container will run it: cut to the stages it runs, a ``sagemaker`` provider replaced by
    the one it names (with that one's options)."""
    kind = job_input.get("kind") or "env"
    if kind not in CONTAINER_STAGES:
        raise ValueError(f"a {kind!r} job has no SageMaker processing path (only {', '.join(CONTAINER_STAGES)})")
    stages = CONTAINER_STAGES[kind]
    given = job_input.get("providers") or {}
    request = dict(job_input.get("request") or {})
    all_options = request.get("options") or {}
    providers = {stage: given[stage] for stage in stages if stage in given}
    options = {stage: all_options[stage] for stage in stages if stage in all_options}
    cloud_stage, cloud_name, cloud_options = _CLOUD_STAGES[kind]
    if providers.get(cloud_stage) == cloud_name:
        inner = cloud_options.model_validate(options.get(cloud_stage) or {})
        providers[cloud_stage] = inner.provider
        options[cloud_stage] = inner.options
    request["options"] = options
    return ProcessingJobInput.model_validate({**job_input, "kind": kind, "providers": providers, "request": request})


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


def _job_environment(settings: Settings, job: ProcessingJobInput, output_s3_uri: str) -> dict[str, str]:
    """Inline JSON when it fits SageMaker's limit, else a key of a copy in the output bucket."""
    text = job.model_dump_json(exclude_none=True)
    if len(text) <= MAX_ENV_VALUE_CHARS:
        return {JOB_JSON_ENV: text}
    from shared.storage.factory import open_object_store

    key = job_key(job.job_id, JOB_INPUT_ARTIFACT)
    open_object_store(settings.model_copy(update={"object_store_url": output_s3_uri})).put_bytes(
        key, text.encode(), "application/json")
    return {JOB_KEY_ENV: key}


def submit_processing_job(
    client, settings: Settings, job_id: str, job_input: dict[str, Any], output_s3_uri: str
) -> str:
    """Start the processing job for ``job_id`` and return its name; if it already exists, just the name.

    ``job_input`` is the job record (or any dict with its ``job_id``, ``request``, ``providers``);
    ``output_s3_uri`` is the object store's root, ``s3://bucket[/prefix]``, which the container writes
    ``jobs/<job_id>/…`` under. Safe to call again for the same job: at-least-once delivery of the
    submitting task must not start a second (billed) job.
    """
    image = check_image_uri(settings.sagemaker_image_uri, settings.sagemaker_allow_mutable_tag)
    if not settings.sagemaker_role_arn:
        raise SageMakerConfigError("SAGEMAKER_ROLE_ARN is not set")
    if not output_s3_uri.startswith("s3://") or len(output_s3_uri) > MAX_ENV_VALUE_CHARS:
        raise SageMakerConfigError(f"output location {output_s3_uri!r} must be an s3://bucket[/prefix] URL")
    job = container_job_input(job_input)
    if job.job_id != job_id:
        raise ValueError(f"job_input is job {job.job_id!r}, not {job_id!r}")
    name = processing_job_name(job_id)
    if _exists(client, name):
        return name
    from botocore.exceptions import ClientError

    environment = {
        "OBJECT_STORE_URL": output_s3_uri,
        "AWS_REGION": settings.aws_region,
        **_job_environment(settings, job, output_s3_uri),
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


def completed_processing_job(ctx: StageContext, job_input: Mapping[str, Any]) -> str | None:
    """Submit the stage's processing job (once per job) or look at it: its name once it has completed,
    None while it runs (its state reported as progress). A failed or stopped job is a ProviderError."""
    client = sagemaker_client(ctx.settings)
    name = submit_processing_job(client, ctx.settings, ctx.job_id, job_input, ctx.settings.resolved_object_store_url)
    status, reason = describe(client, name)
    if status in ("Failed", "Stopped"):
        raise ProviderError(f"SageMaker processing job {name} {status.lower()}: {reason or 'no reason given'}")
    if status != "Completed":
        ctx.report(0.2 if status == "InProgress" else 0.1, f"SageMaker processing job {name}: {status}")
        return None
    return name
