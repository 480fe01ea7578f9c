"""The manifest schema, and finalize refusing to complete a job whose manifest is invalid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from shared.errors import ManifestInvalid
from shared.jobs import Status, get_job_store
from shared.jobs.base import new_job_record
from shared.pipeline.finalize import FINALIZE_PROGRESS, build_manifest, finalize
from shared.pipeline.runner import fail_job, run_stage
from shared.schemas.manifest import SCHEMA_PATH, artifact_files, validate_manifest


def running_job(artifacts: dict) -> str:
    jobs = get_job_store()
    record = new_job_record("env", {"prompt": "manifest test"}, {"plan": "stub", "env": "stub"})
    jobs.create(record)
    jobs.transition(record["job_id"], Status.RUNNING)
    jobs.add_artifacts(record["job_id"], artifacts)
    return record["job_id"]


def test_schema_is_valid_draft_2020_12_with_reference_fields():
    schema = json.loads(Path(SCHEMA_PATH).read_text())
    Draft202012Validator.check_schema(schema)
    assert {"job_id", "prompt", "artifacts", "provenance", "kind"} <= set(schema["required"])


def test_finalize_writes_valid_manifest_and_completes():
    info = {"key": "jobs/x/scene.glb", "bytes": 10, "sha256": "a" * 64, "content_type": "model/gltf-binary"}
    job_id = running_job({"scene.glb": info})
    run_stage(job_id, "finalizing", FINALIZE_PROGRESS, finalize)
    job = get_job_store().get(job_id)
    assert job["status"] == "completed" and job["progress"] == 100
    manifest = json.loads(get_object_bytes(job["artifacts"]["manifest.json"]["key"]))
    validate_manifest(manifest)
    assert manifest["artifacts"] == {"scene.glb": info, "scene_glb": "jobs/x/scene.glb", "refs": []}
    assert manifest["provenance"]["providers"]["env"] == {"name": "stub", "version": "1"}


def get_object_bytes(key: str) -> bytes:
    from shared.storage import get_object_store

    return get_object_store().get_bytes(key)


def test_invalid_manifest_fails_the_job_and_is_not_written():
    job_id = running_job({"scene.glb": {"key": "k", "bytes": -1, "sha256": "nothex", "content_type": "x"}})
    with pytest.raises(ManifestInvalid, match="sha256") as error:
        run_stage(job_id, "finalizing", FINALIZE_PROGRESS, finalize)
    assert fail_job(job_id, error.value)
    job = get_job_store().get(job_id)
    assert job["status"] == "failed" and job["error"]["code"] == "manifest_invalid"
    assert "manifest.json" not in job["artifacts"]


def test_manifest_without_artifacts_is_invalid():
    job = new_job_record("env", {"prompt": "p"}, {"plan": "stub", "env": "stub"})
    with pytest.raises(ManifestInvalid, match="artifacts"):
        validate_manifest(build_manifest(job))


def test_transient_fault_classification():
    from botocore.exceptions import ClientError, EndpointConnectionError

    from shared.errors import InvalidRequest, ProviderError, is_transient

    assert is_transient(ConnectionError("reset"))
    assert is_transient(EndpointConnectionError(endpoint_url="http://s3"))
    assert is_transient(ClientError({"Error": {"Code": "SlowDown"}}, "PutObject"))
    assert not is_transient(ClientError({"Error": {"Code": "AccessDenied"}}, "PutObject"))
    assert not is_transient(ProviderError("bad plan"))
    assert not is_transient(InvalidRequest("nope"))
    assert not is_transient(ValueError("x"))


def test_the_sprint2_fields_name_the_glb_and_the_pictures_beside_the_files():
    """``artifacts.scene_glb`` and ``artifacts.refs`` (the seed's manifest) are object keys; masks are no refs."""
    def info(key: str, content_type: str) -> dict:
        return {"key": key, "bytes": 1, "sha256": "b" * 64, "content_type": content_type}

    files = {"model.glb": info("jobs/j/model.glb", "model/gltf-binary"),
             "model.stl": info("jobs/j/model.stl", "model/stl"),
             "views/view_1.png": info("jobs/j/views/view_1.png", "image/png"),
             "views/view_0.png": info("jobs/j/views/view_0.png", "image/png"),
             "views/mask_0.png": info("jobs/j/views/mask_0.png", "image/png"),
             "views.json": info("jobs/j/views.json", "application/json")}
    job = new_job_record("image_to_3d", {"images": ["k"]}, {"reconstruct": "relief"})
    job["artifacts"] = files
    manifest = build_manifest(job)
    validate_manifest(manifest)
    assert manifest["artifacts"]["scene_glb"] == "jobs/j/model.glb"
    assert manifest["artifacts"]["refs"] == ["jobs/j/views/view_0.png", "jobs/j/views/view_1.png"]
    assert artifact_files(manifest) == files
    manifest["artifacts"]["refs"] = "not a list"
    with pytest.raises(ManifestInvalid, match="refs"):
        validate_manifest(manifest)
