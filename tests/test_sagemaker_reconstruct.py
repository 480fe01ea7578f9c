"""The reconstruct stage's SageMaker path: the container meshes the stored views against moto's S3.

The same moto_server, settings and container command as ``tests/test_sagemaker.py`` (the env path);
here the job is a text_to_3d whose views a local stage already wrote to the bucket.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
import trimesh
from botocore.awsrequest import AWSResponse

from shared import queues
from shared.cloud import sagemaker as cloud
from shared.cloud.sagemaker import processing_job_name
from shared.errors import JobCanceled, ProviderError, ProviderUnavailable
from shared.jobs import Status
from shared.jobs.base import new_job_record
from shared.pipeline.assets import (
    IMAGES_PROGRESS,
    POSTPROCESS_PROGRESS,
    RECONSTRUCT_PROGRESS,
    RECONSTRUCTION,
    generate_images,
    post_process,
)
from shared.pipeline.cloud import run_in_cloud
from shared.pipeline.context import StageContext
from shared.providers.cloud import CLOUD_TASK
from shared.providers.registry import provider_class
from shared.providers.sagemaker_processing import (
    CLOUD_RECONSTRUCTION,
    ProcessingJobInput,
    container_job_input,
    submit_processing_job,
)
from shared.storage.factory import open_object_store
from tests.stage_jobs import StageJob
from tests.test_sagemaker import bucket, recording_client, run_entrypoint, sm_settings, submitted_environment

__all__ = ["bucket"]  # the fixture, imported so pytest finds it here


def reconstruct_in_cloud(ctx: StageContext) -> bool:
    """The reconstruct stage as the cloud task runs it for a job whose reconstructor is a cloud provider."""
    return run_in_cloud(ctx, "reconstruct")


class CloudAssetJob(StageJob):
    """A text_to_3d job in a SQLite job store with its objects in moto's S3."""

    def __init__(self, tmp_path, settings, options: dict[str, Any]) -> None:
        request = {"prompt": "a green cube", "seed": 2, "output_format": "glb",
                   "options": {"images": {"views": 4}, **options}}
        super().__init__(tmp_path, "text_to_3d", request, settings, {"images": "stub", "reconstruct": "sagemaker"},
                         objects=open_object_store(settings))


def cloud_job(moto_server, bucket, tmp_path, inner: dict[str, Any]) -> CloudAssetJob:
    settings = sm_settings(moto_server, object_store_url=f"s3://{bucket}/assets", asset_view_size=192)
    job = CloudAssetJob(tmp_path, settings, {"reconstruct": inner})
    generate_images(job.context("generating_images", IMAGES_PROGRESS))
    return job


def test_cloud_reconstruct_records_the_containers_mesh(moto_server, bucket, tmp_path):
    job = cloud_job(moto_server, bucket, tmp_path, {"provider": "stub"})
    ctx = job.context("reconstructing_3d", RECONSTRUCT_PROGRESS)

    # What the stage will send is what SageMaker hands the container; run the container's command on it.
    client = recording_client(job.settings)
    environment = submitted_environment(client, job.settings, ctx.job, job.settings.resolved_object_store_url)
    assert json.loads(environment["MMF_JOB_JSON"]) == {
        "job_id": job.job_id, "kind": "text_to_3d", "created_at": ctx.job["created_at"],
        "request": {"prompt": "a green cube", "seed": 2, "options": {"reconstruct": {}}},
        "providers": {"reconstruct": "stub"},
    }
    finished = run_entrypoint(environment, moto_server, tmp_path)
    assert finished.returncode == 0, finished.stderr

    marker = json.loads(job.objects.get_bytes(job.key(CLOUD_RECONSTRUCTION)))
    assert marker["provider"] == "stub" and marker["processing_job_name"] == processing_job_name(job.job_id)
    written = {key for key in job.objects.list(f"jobs/{job.job_id}/") if not key.startswith(job.key("views/"))}
    assert written == {job.key(RECONSTRUCTION), job.key(CLOUD_RECONSTRUCTION), job.key("views.json")}

    assert reconstruct_in_cloud(ctx) is True
    record = job.jobs.get(job.job_id)
    mesh = record["artifacts"][RECONSTRUCTION]
    assert mesh == marker["artifacts"][RECONSTRUCTION]
    assert mesh["key"] == job.key(RECONSTRUCTION)
    assert job.objects.size(mesh["key"]) == mesh["bytes"] > 0
    assert any("SageMaker processing job" in note for note in record["notes"])
    assert len(client.sent) == 1  # the stage found the job already submitted: no second job

    # The rest of the job runs here on what the container made: the stub's cube, cleaned and exported.
    post_process(job.context("post_processing", POSTPROCESS_PROGRESS))
    model = trimesh.load(io.BytesIO(job.objects.get_bytes(job.key("model.glb"))), file_type="glb", force="mesh")
    assert len(model.faces) == 12


def test_container_failure_exits_non_zero_and_the_stage_refuses_a_markerless_job(moto_server, bucket, tmp_path):
    job = cloud_job(moto_server, bucket, tmp_path,
                    {"provider": "faults", "options": {"fail_message": "the reconstructor broke"}})
    ctx = job.context("reconstructing_3d", RECONSTRUCT_PROGRESS)
    client = recording_client(job.settings)
    environment = submitted_environment(client, job.settings, ctx.job, job.settings.resolved_object_store_url)

    result = run_entrypoint(environment, moto_server, tmp_path)

    expected = f"mmf processing job {job.job_id} failed: ProviderError: the reconstructor broke"
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == expected
    assert (tmp_path / "message").read_text() == expected
    assert not job.objects.exists(job.key(RECONSTRUCTION))
    assert not job.objects.exists(job.key(CLOUD_RECONSTRUCTION))
    # moto calls every job Completed; without the marker the stage must not trust it.
    with pytest.raises(ProviderError, match=f"without writing {CLOUD_RECONSTRUCTION}"):
        reconstruct_in_cloud(ctx)
    assert RECONSTRUCTION not in job.jobs.get(job.job_id)["artifacts"]


@pytest.mark.parametrize("status, done", [("InProgress", False), ("Failed", None), ("Stopped", None)])
def test_the_stage_waits_while_running_and_fails_with_sagemakers_reason(moto_server, bucket, tmp_path,
                                                                         monkeypatch, status, done):
    job = cloud_job(moto_server, bucket, tmp_path, {"provider": "stub"})
    ctx = job.context("reconstructing_3d", RECONSTRUCT_PROGRESS)
    client = cloud.sagemaker_client(job.settings)
    name = processing_job_name(job.job_id)
    # Submitted for real (moto); from then on SageMaker's answers about it are the case's.
    assert submit_processing_job(client, job.settings, job.job_id, ctx.job,
                                 job.settings.resolved_object_store_url) == name
    answer = {"ProcessingJobName": name, "ProcessingJobStatus": status, "ResponseMetadata": {}}
    if done is None:
        answer.update(FailureReason="AlgorithmError: exit 1", ExitMessage="mmf processing job failed: boom")
    client.meta.events.register("before-call.sagemaker.DescribeProcessingJob",
                                lambda **_: (AWSResponse("https://sagemaker", 200, {}, None), answer))
    monkeypatch.setattr(cloud, "sagemaker_client", lambda settings: client)

    if done is None:
        with pytest.raises(ProviderError, match=f"{name} {status.lower()}: AlgorithmError: exit 1; .*boom"):
            reconstruct_in_cloud(ctx)
    else:
        assert reconstruct_in_cloud(ctx) is False
        assert status in job.jobs.get(job.job_id)["message"]


def test_a_canceled_job_stops_its_processing_job_and_a_redelivery_does_not_submit_again(
        moto_server, bucket, tmp_path, monkeypatch):
    job = cloud_job(moto_server, bucket, tmp_path, {"provider": "stub"})
    client = recording_client(job.settings)
    name = processing_job_name(job.job_id)
    running = {"ProcessingJobName": name, "ProcessingJobStatus": "InProgress", "ResponseMetadata": {}}
    client.meta.events.register("before-call.sagemaker.DescribeProcessingJob",
                                lambda **_: (AWSResponse("https://sagemaker", 200, {}, None), running)
                                if client.sent else None)
    stopped: list[dict[str, Any]] = []
    client.meta.events.register("before-send.sagemaker.StopProcessingJob",
                                lambda request, **_: stopped.append(json.loads(request.body)))
    monkeypatch.setattr(cloud, "sagemaker_client", lambda settings: client)

    assert reconstruct_in_cloud(job.context("reconstructing_3d", RECONSTRUCT_PROGRESS)) is False
    assert len(client.sent) == 1
    assert job.record["details"]["cloud_jobs"] == {"reconstructing_3d": {"provider": "sagemaker", "handle": name}}
    # A redelivered poll reads the handle from the record: it neither creates nor looks for a job by name.
    assert reconstruct_in_cloud(job.context("reconstructing_3d", RECONSTRUCT_PROGRESS)) is False
    assert len(client.sent) == 1 and stopped == []

    job.jobs.transition(job.job_id, Status.CANCELED)
    with pytest.raises(JobCanceled):
        reconstruct_in_cloud(job.context("reconstructing_3d", RECONSTRUCT_PROGRESS))
    assert stopped == [{"ProcessingJobName": name}]


def _record(kind: str, providers: dict[str, str], options: dict[str, Any] | None = None) -> dict[str, Any]:
    return new_job_record(kind, {"kind": kind, "prompt": "x", "options": options or {}}, providers,
                          job_id=uuid.uuid4().hex)


def test_container_input_is_cut_to_the_reconstruct_stage_with_the_inner_provider():
    record = _record("image_to_3d", {"reconstruct": "sagemaker"},
                     {"reconstruct": {"provider": "faults", "options": {"fail_message": "x"}}})
    job = container_job_input(record)
    assert (job.kind, job.providers, job.request.options) == (
        "image_to_3d", {"reconstruct": "faults"}, {"reconstruct": {"fail_message": "x"}})
    defaulted = container_job_input(_record("text_to_3d", {"images": "stub", "reconstruct": "sagemaker"}))
    assert defaulted.providers == {"reconstruct": "relief"}
    assert container_job_input(_record("text_to_3d", {"images": "stub", "reconstruct": "stub"})).providers == {
        "reconstruct": "stub"}


@pytest.mark.parametrize("kind, providers, options, error", [
    ("text_to_3d", {"images": "stub", "reconstruct": "sagemaker"}, {"reconstruct": {"provider": "nope"}},
     "unknown reconstruct provider 'nope'"),
    ("text_to_3d", {"images": "stub", "reconstruct": "sagemaker"}, {"reconstruct": {"provider": "sagemaker"}},
     "cannot run the sagemaker provider itself"),
    ("image_to_3d", {"reconstruct": "sagemaker"}, {"reconstruct": {"provider": "stub", "options": {"bad": 1}}},
     "Extra inputs are not permitted"),
    ("splat", {"train": "points"}, {}, "no SageMaker processing path"),
])
def test_container_input_refuses_what_the_container_cannot_run(kind, providers, options, error):
    with pytest.raises(ValueError, match=error):
        container_job_input(_record(kind, providers, options))


@pytest.mark.parametrize("kind, providers, error", [
    ("image_to_3d", {"reconstruct": "sagemaker"}, "resolve 'sagemaker' before submitting"),
    ("image_to_3d", {"reconstruct": "nope"}, "unknown reconstruct provider 'nope'"),
    ("text_to_3d", {"plan": "stub", "env": "stub"}, "must name exactly the reconstruct provider"),
    ("env", {"reconstruct": "stub"}, "must name exactly the plan and env providers"),
])
def test_processing_job_input_checks_providers_per_kind(kind, providers, error):
    body = {"job_id": uuid.uuid4().hex, "kind": kind, "request": {}, "providers": providers}
    with pytest.raises(ValueError, match=error):
        ProcessingJobInput.model_validate(body)


def test_the_provider_runs_on_the_sagemaker_queue_and_needs_the_cloud_configured(moto_server):
    cls = provider_class("reconstruct", "sagemaker")
    assert (cls.queue, cls.task) == (queues.SAGEMAKER, CLOUD_TASK)
    cls.check_available(sm_settings(moto_server, object_store_url="s3://bucket/prefix"))
    with pytest.raises(ProviderUnavailable, match="needs an S3 object store"):
        cls.check_available(sm_settings(moto_server, object_store_url="/tmp/objects"))
    with pytest.raises(ProviderUnavailable, match="moving tag :latest"):
        cls.check_available(sm_settings(moto_server, object_store_url="s3://b",
                                        sagemaker_image_uri="registry.example/mmf:latest"))
    from shared.celery_app import app
    from shared.pipeline.chains import step_signatures

    steps = step_signatures(app, _record("text_to_3d", {"images": "stub", "reconstruct": "sagemaker"}))
    assert [(s.task, s.args[1:], s.options.get("queue")) for s in steps[:2]] == [
        ("asset_3d.generate_images", (), queues.CPU), (CLOUD_TASK, ("reconstructing_3d",), queues.SAGEMAKER)]
    # The task id stays the step's: the job record lists the same ids whichever provider runs the step.
    assert steps[1].options["task_id"].endswith(":asset_3d.reconstruct")


def test_unconfigured_cloud_reconstructor_is_422_at_submit(client):
    body = {"kind": "text_to_3d", "prompt": "a teapot", "providers": {"reconstruct": "sagemaker"}}
    response = client.post("/v1/generations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "provider_unavailable"
    assert "S3" in response.json()["message"]
