"""The SageMaker Processing path against a real moto_server: submit, describe, and the container entrypoint.

moto 5.x keeps a processing job's image, role and stopping condition but drops its resources and
environment from DescribeProcessingJob, so those are checked on the request as it went over the wire.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import trimesh
from botocore.awsrequest import AWSResponse

from shared.cloud.sagemaker import (
    MAX_ENV_VALUE_CHARS,
    SageMakerConfigError,
    check_image_uri,
    describe,
    processing_job_name,
    sagemaker_client,
)
from shared.config import Settings
from shared.jobs.base import new_job_record
from shared.pipeline.cloud import run_in_cloud
from shared.pipeline.env import SCENE_PROGRESS
from shared.providers.registry import provider_class
from shared.providers.sagemaker_processing import CLOUD_SCENE, JOB_INPUT_ARTIFACT, submit_processing_job
from shared.schemas.manifest import artifact_files, validate_manifest
from shared.storage.factory import open_object_store
from shared.storage.s3 import S3ObjectStore
from tests.stage_jobs import StageJob

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mmf-envgen"
IMAGE = f"{REGISTRY}:sprint2-release"
ROLE = "arn:aws:iam::123456789012:role/SageMakerProcessingRole"
PREFIX = "assets"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def bucket(moto_server, aws_credentials) -> str:
    name = f"mmf-sm-{uuid.uuid4().hex[:12]}"
    S3ObjectStore(name, endpoint_url=moto_server).client.create_bucket(Bucket=name)
    return name


def sm_settings(endpoint: str, **overrides: Any) -> Settings:
    values = {"sagemaker_image_uri": IMAGE, "sagemaker_role_arn": ROLE, "sagemaker_endpoint_url": endpoint,
              "s3_endpoint_url": endpoint, "sagemaker_instance_type": "ml.c5.2xlarge", "sagemaker_volume_gb": 30,
              "sagemaker_max_runtime_s": 900, **overrides}
    return Settings(**values)


def recording_client(settings: Settings):
    """A real client to moto that also keeps the body of every CreateProcessingJob it sends."""
    client = sagemaker_client(settings)
    client.sent = []
    client.meta.events.register("before-send.sagemaker.CreateProcessingJob",
                                lambda request, **_: client.sent.append(json.loads(request.body)))
    return client


def job_record(prompt: str, providers: dict[str, str], options: dict[str, Any] | None = None) -> dict[str, Any]:
    request = {"kind": "env", "prompt": prompt, "plan": None, "seed": 5, "options": options or {}, "images": None}
    return new_job_record("env", request, providers, job_id=uuid.uuid4().hex)


def submitted_environment(client, settings: Settings, record: dict[str, Any], output: str) -> dict[str, str]:
    submit_processing_job(client, settings, record["job_id"], record, output)
    return client.sent[-1]["Environment"]


def run_entrypoint(environment: dict[str, str], endpoint: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The container's command with the environment SageMaker gives it, plus the test server's endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMF_JOB", "AWS_"))}
    env.update(environment)
    env.update({"S3_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    argv = [sys.executable, "-m", "infra.sagemaker.entrypoint_processing",
            "--exit-message-file", str(tmp_path / "message")]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("uri", [
    IMAGE, f"{REGISTRY}:v1.4.2", f"{REGISTRY}@{DIGEST}", f"{REGISTRY}:sprint2-release@{DIGEST}",
    "localhost:5000/mmf-envgen:2026-11-21",
])
def test_pinned_image_uris_are_accepted(uri):
    assert check_image_uri(uri, allow_mutable=False) == uri


@pytest.mark.parametrize("uri, error", [
    (f"{REGISTRY}:latest", "moving tag :latest"),
    (f"{REGISTRY}:stable", "moving tag :stable"),
    (REGISTRY, "has no tag"),
    ("localhost:5000/mmf-envgen", "has no tag"),
])
def test_moving_image_uris_are_refused_unless_allowed(uri, error):
    with pytest.raises(SageMakerConfigError, match=error) as refused:
        check_image_uri(uri, allow_mutable=False)
    assert "SAGEMAKER_ALLOW_MUTABLE_TAG" in str(refused.value) and "@sha256:" in str(refused.value)
    assert check_image_uri(uri, allow_mutable=True) == uri


@pytest.mark.parametrize("uri, error", [
    ("", "SAGEMAKER_IMAGE_URI is not set"),
    (f"{REGISTRY}@sha256:abc", "digest must be sha256"),
    (f"{REGISTRY}:bad tag", "is not repository"),
    (f"{REGISTRY}:bad tag@{DIGEST}", "is not repository"),
    (f"@{DIGEST}", "is not repository"),
])
def test_malformed_image_uris_are_refused_even_when_mutable_is_allowed(uri, error):
    with pytest.raises(SageMakerConfigError, match=error):
        check_image_uri(uri, allow_mutable=True)


def test_processing_job_names_are_valid_deterministic_and_distinct():
    ids = ["0123456789abcdef0123456789abcdef", "a_b-c_d-e", "a-b-c-d-e", "x" * 64, "_" * 10]
    names = [processing_job_name(job_id) for job_id in ids]
    assert names == [processing_job_name(job_id) for job_id in ids]
    assert len(set(names)) == len(ids)
    for name in names:
        assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name), name
    assert names[0].startswith(f"mmf-{ids[0]}-")


def test_submit_creates_one_job_with_the_configured_parameters(moto_server, bucket):
    settings = sm_settings(moto_server)
    client = recording_client(settings)
    record = job_record("misty alley", {"plan": "stub", "env": "sagemaker"}, {"env": {"provider": "stub"}})
    output = f"s3://{bucket}/{PREFIX}"

    name = submit_processing_job(client, settings, record["job_id"], record, output)

    assert name == processing_job_name(record["job_id"])
    assert describe(client, name) == ("Completed", None)
    described = client.describe_processing_job(ProcessingJobName=name)
    assert described["AppSpecification"]["ImageUri"] == IMAGE
    assert described["RoleArn"] == ROLE
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 900}
    [sent] = client.sent
    assert sent["ProcessingResources"]["ClusterConfig"] == {
        "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "VolumeSizeInGB": 30}
    assert sent["Tags"] == [{"Key": "mmf:job_id", "Value": record["job_id"]}]
    environment = sent["Environment"]
    assert environment["OBJECT_STORE_URL"] == output
    assert json.loads(environment["MMF_JOB_JSON"]) == {
        "job_id": record["job_id"], "kind": "env", "created_at": record["created_at"],
        "request": {"prompt": "misty alley", "seed": 5, "options": {"env": {}}},
        "providers": {"plan": "stub", "env": "stub"},
    }

    created = described["CreationTime"]
    assert submit_processing_job(client, settings, record["job_id"], record, output) == name
    assert len(client.sent) == 1
    summaries = client.list_processing_jobs(NameContains=name)["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in summaries] == [name]
    assert client.describe_processing_job(ProcessingJobName=name)["CreationTime"] == created


def test_submit_that_loses_a_race_returns_the_winners_job(moto_server, bucket):
    """Another delivery of the task creates the job between our existence check and our create."""
    settings = sm_settings(moto_server)
    client = sagemaker_client(settings)
    record = job_record("a race", {"plan": "stub", "env": "stub"})
    name = processing_job_name(record["job_id"])
    winner_settings = sm_settings(moto_server, sagemaker_instance_type="ml.m5.large")
    winner = recording_client(winner_settings)

    def other_worker_wins(params, **_):
        submit_processing_job(winner, winner_settings, record["job_id"], record, f"s3://{bucket}")
        error = {"Code": "ResourceInUse", "Message": "Job name must be unique within an AWS account and region"}
        return AWSResponse("https://sagemaker", 400, {}, None), {"Error": error, "ResponseMetadata": {}}

    client.meta.events.register("before-call.sagemaker.CreateProcessingJob", other_worker_wins)

    assert submit_processing_job(client, settings, record["job_id"], record, f"s3://{bucket}") == name
    assert len(winner.sent) == 1
    assert describe(client, name) == ("Completed", None)


def test_describe_reports_why_a_job_failed(moto_server, aws_credentials):
    """moto never fails a job, so this answer is canned: SageMaker's reason plus the container's exit message."""
    client = sagemaker_client(sm_settings(moto_server))
    answer = {"ProcessingJobName": "mmf-x", "ProcessingJobStatus": "Failed", "FailureReason": "AlgorithmError: exit 1",
              "ExitMessage": "mmf processing job x failed: ProviderError: boom", "ResponseMetadata": {}}
    client.meta.events.register("before-call.sagemaker.DescribeProcessingJob",
                                lambda **_: (AWSResponse("https://sagemaker", 200, {}, None), answer))
    assert describe(client, "mmf-x") == (
        "Failed", "AlgorithmError: exit 1; mmf processing job x failed: ProviderError: boom")


def test_submit_refuses_bad_configuration_before_calling_sagemaker(moto_server, bucket):
    record = job_record("x", {"plan": "stub", "env": "stub"})
    output = f"s3://{bucket}"
    cases = [
        (sm_settings(moto_server, sagemaker_image_uri=f"{REGISTRY}:latest"), output, "moving tag :latest"),
        (sm_settings(moto_server, sagemaker_role_arn=""), output, "SAGEMAKER_ROLE_ARN is not set"),
        (sm_settings(moto_server), "/tmp/objects", "must be an s3://"),
    ]
    for settings, where, error in cases:
        client = recording_client(settings)
        with pytest.raises(SageMakerConfigError, match=error):
            submit_processing_job(client, settings, record["job_id"], record, where)
        assert client.sent == []
    settings = sm_settings(moto_server)
    client = recording_client(settings)
    bad_inner = job_record("x", {"plan": "stub", "env": "sagemaker"}, {"env": {"provider": "nope"}})
    with pytest.raises(ValueError, match="unknown env provider 'nope'"):
        submit_processing_job(client, settings, bad_inner["job_id"], bad_inner, output)
    assert client.sent == []


def _check_outputs(store: S3ObjectStore, job_id: str, providers: dict[str, str]) -> dict[str, Any]:
    manifest = json.loads(store.get_bytes(f"jobs/{job_id}/{CLOUD_SCENE}"))
    validate_manifest(manifest)
    assert manifest["job_id"] == job_id
    assert {name: p["name"] for name, p in manifest["provenance"]["providers"].items()} == providers
    assert manifest["details"]["processing_job_name"] == processing_job_name(job_id)
    assert {"plan.json", "scene.glb"} <= set(manifest["artifacts"])
    glb = store.get_bytes(f"jobs/{job_id}/scene.glb")
    assert manifest["artifacts"]["scene.glb"]["bytes"] == len(glb)
    assert manifest["artifacts"]["scene.glb"]["key"] == f"jobs/{job_id}/scene.glb"
    assert len(trimesh.load(io.BytesIO(glb), file_type="glb").geometry) >= 1
    written = set(store.list(f"jobs/{job_id}/")) - {f"jobs/{job_id}/{JOB_INPUT_ARTIFACT}"}
    # The container leaves manifest.json to the finalize stage: its own is the cloud_scene.json marker.
    assert written == {f"jobs/{job_id}/{name}" for name in [*artifact_files(manifest), CLOUD_SCENE]}
    return manifest


@pytest.mark.parametrize("providers, prompt", [
    ({"plan": "stub", "env": "stub"}, "misty cyberpunk alley with neon"),
    ({"plan": "stub", "env": "stub"}, "a long prompt that cannot travel in one environment value " * 6),
    ({"plan": "rules", "env": "procedural"}, "a snowy village at dusk"),
])
def test_entrypoint_writes_scene_and_valid_manifest_to_s3(moto_server, bucket, tmp_path, providers, prompt):
    settings = sm_settings(moto_server)
    client = recording_client(settings)
    record = job_record(prompt, providers)
    environment = submitted_environment(client, settings, record, f"s3://{bucket}/{PREFIX}")
    assert all(len(value) <= MAX_ENV_VALUE_CHARS for value in environment.values())
    assert ("MMF_JOB_KEY" in environment) == (len(prompt) > 200)

    result = run_entrypoint(environment, moto_server, tmp_path)

    assert result.returncode == 0, result.stderr
    store = S3ObjectStore(bucket, PREFIX, endpoint_url=moto_server)
    manifest = _check_outputs(store, record["job_id"], providers)
    assert manifest["prompt"] == prompt
    assert ("thumbnail.png" in manifest["artifacts"]) == (providers["env"] == "procedural")
    plan = json.loads(store.get_bytes(f"jobs/{record['job_id']}/plan.json"))
    assert plan == provider_class("plan", providers["plan"])().plan(None, prompt, 5)
    assert not (tmp_path / "message").exists()


def test_entrypoint_failure_exits_non_zero_with_the_error(moto_server, bucket, tmp_path):
    settings = sm_settings(moto_server)
    client = recording_client(settings)
    record = job_record("doomed", {"plan": "stub", "env": "sagemaker"},
                        {"env": {"provider": "faults", "options": {"fail_message": "the generator broke"}}})
    environment = submitted_environment(client, settings, record, f"s3://{bucket}")

    result = run_entrypoint(environment, moto_server, tmp_path)

    expected = f"mmf processing job {record['job_id']} failed: ProviderError: the generator broke"
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == expected
    assert "Traceback" not in result.stderr
    assert (tmp_path / "message").read_text() == expected
    store = S3ObjectStore(bucket, endpoint_url=moto_server)
    assert store.list(f"jobs/{record['job_id']}/") == [f"jobs/{record['job_id']}/plan.json"]


def test_entrypoint_refuses_a_malformed_job_or_a_local_store(moto_server, bucket, tmp_path):
    bad_json = run_entrypoint({"OBJECT_STORE_URL": f"s3://{bucket}", "MMF_JOB_JSON": '{"job_id": "short"}'},
                              moto_server, tmp_path)
    assert bad_json.returncode == 1
    last = bad_json.stderr.strip().splitlines()[-1]
    assert last.startswith("mmf processing job ? failed: InvalidRequest: the job JSON is not a processing job input:")
    assert "job_id: String should match pattern" in last and "providers: Field required" in last

    local = run_entrypoint({"OBJECT_STORE_URL": str(tmp_path / "objects"), "MMF_JOB_JSON": "{}"}, moto_server, tmp_path)
    assert local.returncode == 1
    assert "SageMakerConfigError: OBJECT_STORE_URL must be an s3:// URL" in local.stderr

def test_cloud_stage_records_the_containers_scene(moto_server, bucket, tmp_path):
    settings = sm_settings(moto_server, object_store_url=f"s3://{bucket}/assets")
    request = {"prompt": "a cloud-built park", "seed": 3, "options": {"env": {"provider": "stub"}}}
    job = StageJob(tmp_path, "env", request, settings, {"plan": "stub", "env": "sagemaker"},
                   objects=open_object_store(settings))
    ctx = job.context("generating_scene", SCENE_PROGRESS)
    jobs, record = job.jobs, job.record
    plan = {"prompt": "a cloud-built park", "seed": 3}
    ctx.put_artifact("plan.json", json.dumps(plan).encode(), "application/json")

    # What the stage will send is what SageMaker hands the container; run the container's command on it.
    job_input = {**ctx.job, "request": {**ctx.request, "plan": plan}}
    client = recording_client(settings)
    environment = submitted_environment(client, settings, job_input, settings.resolved_object_store_url)
    finished = run_entrypoint(environment, moto_server, tmp_path)
    assert finished.returncode == 0, finished.stderr

    assert run_in_cloud(ctx, "env") is True
    job = jobs.get(record["job_id"])
    scene = job["artifacts"]["scene.glb"]
    assert scene["key"] == f"jobs/{record['job_id']}/scene.glb"
    assert ctx.objects.size(scene["key"]) == scene["bytes"] > 0
    assert any("SageMaker processing job" in note for note in job["notes"])
    assert len(client.sent) == 1  # the stage found the job already submitted: no second job
    # What it submitted is recorded: a later delivery polls that job instead of submitting again.
    assert job["details"]["cloud_jobs"] == {
        "generating_scene": {"provider": "sagemaker", "handle": processing_job_name(record["job_id"])}}
