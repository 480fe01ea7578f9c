"""The env job end to end: API -> real Redis -> real Celery worker -> stores -> manifest."""

from __future__ import annotations

import io
import json
import re

import httpx
import numpy as np
import pytest
import trimesh

from infra.local.stack import wait_until
from shared.schemas.manifest import validate_manifest
from tests.conftest import wait_for_status

pytestmark = pytest.mark.usefixtures("worker")


def submit(client, **body) -> str:
    response = client.post("/v1/generations", json={"kind": "env", **body})
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["status"] == "queued"
    assert created["status_url"].endswith(f"/v1/generations/{created['job_id']}/status")
    return created["job_id"]


def test_env_job_completes_with_valid_artifacts(client, data_dir):
    job_id = submit(client, prompt="misty cyberpunk alley with neon", providers={"plan": "stub", "env": "stub"})
    job = wait_for_status(client, job_id)
    assert job["status"] == "completed", job
    assert job["progress"] == 100 and job["stage"] == "finalizing"
    assert {"plan.json", "scene.glb", "manifest.json"} <= set(job["artifacts"])
    assert set(job["timings"]) == {"planning", "generating_scene", "finalizing"}

    glb = client.get(f"/v1/generations/{job_id}/download/scene.glb")
    assert glb.status_code == 200
    assert glb.headers["content-type"] == "model/gltf-binary"
    scene = trimesh.load(io.BytesIO(glb.content), file_type="glb")
    assert len(scene.geometry) >= 2

    manifest = json.loads(client.get(f"/v1/generations/{job_id}/download/manifest.json").content)
    validate_manifest(manifest)
    assert manifest["job_id"] == job_id
    assert manifest["artifacts"]["scene.glb"]["bytes"] == len(glb.content)
    assert manifest["provenance"]["providers"]["env"]["name"] == "stub"

    stored = (data_dir / "objects" / "jobs" / job_id / "scene.glb").read_bytes()
    signed = client.get(f"/v1/generations/{job_id}/presigned").json()
    url = httpx.URL(signed["artifacts"]["scene.glb"]["url"])
    fetched = client.get(url.raw_path.decode())
    assert fetched.status_code == 200
    assert fetched.content == stored == glb.content


def test_default_providers_plan_and_build_a_real_scene(client):
    from PIL import Image

    from shared.schemas.scene_plan import ScenePlan

    job_id = submit(client, prompt="misty cyberpunk alley with neon at night", seed=11)
    job = wait_for_status(client, job_id)
    assert job["status"] == "completed", job
    assert job["providers"] == {"plan": "rules", "env": "procedural"}
    plan = ScenePlan.model_validate_json(client.get(f"/v1/generations/{job_id}/download/plan.json").content)
    assert plan.setting == "alley" and plan.weather == "misty" and plan.lighting == "neon" and plan.seed == 11
    scene = trimesh.load(io.BytesIO(client.get(f"/v1/generations/{job_id}/download").content), file_type="glb")
    kinds = {group.kind for group in plan.objects}
    props = [node for node in scene.graph.nodes if re.fullmatch(r"[a-z_]+_\d{3}", node) and node[:-4] in kinds]
    assert len(props) >= 5, sorted(scene.graph.nodes)
    thumbnail = Image.open(io.BytesIO(client.get(f"/v1/generations/{job_id}/download/thumbnail.png").content))
    pixels = np.asarray(thumbnail.convert("RGB")).reshape(-1, 3)
    assert thumbnail.format == "PNG" and len(np.unique(pixels, axis=0)) > 50
    manifest = json.loads(client.get(f"/v1/generations/{job_id}/download/manifest.json").content)
    assert {"scene.glb", "thumbnail.png", "plan.json"} <= set(manifest["artifacts"])


def test_status_route_reports_progress_fields(client):
    job_id = submit(client, prompt="a quiet forest at dawn")
    wait_for_status(client, job_id)
    status = client.get(f"/v1/generations/{job_id}/status").json()
    assert set(status) == {"job_id", "kind", "status", "stage", "progress", "message", "error", "state"}
    assert status["status"] == "completed" and status["error"] is None and status["state"] == "SUCCESS"


def test_failing_provider_fails_job_and_stops_chain(client):
    failing = {"env": {"fail_message": "out of sand"}}
    job_id = submit(client, prompt="a desert", providers={"env": "faults"}, options=failing)
    job = wait_for_status(client, job_id)
    assert job["status"] == "failed"
    assert job["error"]["type"] == "ProviderError"
    assert job["error"]["message"] == "out of sand"
    assert job["error"]["stage"] == "generating_scene"
    assert "Traceback" not in json.dumps(job)
    assert "scene.glb" not in job["artifacts"] and "manifest.json" not in job["artifacts"]
    assert job["details"]["partial_artifacts"] == ["plan.json"]
    assert "finalizing" not in job["timings"]


def test_cancel_before_pickup_never_runs_stages(client):
    from celery.result import AsyncResult

    from shared.celery_app import app
    from shared.jobs import get_job_store
    from shared.jobs.base import new_job_record
    from shared.pipeline import chains

    # Recorded and sent like a submission, but with a 2 s ETA: the worker holds the message, unstarted.
    job = new_job_record("env", {"kind": "env", "prompt": "a snowy farm"}, {"plan": "stub", "env": "stub"})
    job["celery_task_ids"] = chains.task_ids("env", job["job_id"])
    get_job_store().create(job)
    chains.enqueue(app, job, countdown=2)
    job_id = job["job_id"]
    canceled = client.post(f"/v1/generations/{job_id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    job = client.get(f"/v1/generations/{job_id}").json()
    plan_task = AsyncResult(job["celery_task_ids"][0], app=app)
    wait_until(lambda: plan_task.state == "IGNORED", 30, "the worker to skip the canceled job's first stage")
    assert "canceled" in plan_task.result["skipped"]
    job = client.get(f"/v1/generations/{job_id}").json()
    assert job["status"] == "canceled"
    assert job["started_at"] is None and job["artifacts"] == {} and job["timings"] == {}
    for later in job["celery_task_ids"][1:]:
        assert AsyncResult(later, app=app).state == "PENDING"
    assert client.post(f"/v1/generations/{job_id}/cancel").status_code == 409


def test_poison_pill_fails_after_bounded_deliveries_and_worker_keeps_serving(client):
    job_id = submit(client, prompt="a doomed cave", providers={"env": "faults"},
                    options={"env": {"crash_process": True}})
    job = wait_for_status(client, job_id, timeout_s=120)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "stage_crashed" and job["error"]["stage"] == "generating_scene"
    assert job["attempts"]["generating_scene"] == 4  # three real starts, the fourth delivery fails the job
    healthy = wait_for_status(client, submit(client, prompt="a healthy park"))
    assert healthy["status"] == "completed"


def test_transient_faults_are_retried_with_backoff_and_validation_errors_are_not(client, monkeypatch):
    job_id = submit(client, prompt="a flaky farm", providers={"env": "faults"},
                    options={"env": {"transient_faults": 2}})
    job = wait_for_status(client, job_id)
    assert job["status"] == "completed", job
    assert {"generating_scene", "generating_scene#1", "generating_scene#2"} <= set(job["attempts"])

    failing = submit(client, prompt="a firm no", providers={"env": "faults"}, options={"env": {"fail_message": "bad"}})
    job = wait_for_status(client, failing)
    assert job["status"] == "failed"
    assert [key for key in job["attempts"] if key.startswith("generating_scene")] == ["generating_scene"]


def test_same_request_twice_is_a_cache_hit_that_runs_no_provider(client):
    body = {"prompt": "a cached beach at dusk", "seed": 42, "providers": {"plan": "rules", "env": "procedural"}}
    first = wait_for_status(client, submit(client, **body))
    second = wait_for_status(client, submit(client, **body))
    assert first["status"] == second["status"] == "completed"
    assert second["details"]["cache"] == {"hit": True, "source_job_id": first["job_id"]}
    assert "generating_scene" not in second["timings"]  # no provider stage ran
    assert any("cache hit" in note for note in second["notes"])
    for name in ("scene.glb", "thumbnail.png", "plan.json"):
        assert second["artifacts"][name]["sha256"] == first["artifacts"][name]["sha256"]
        assert second["artifacts"][name]["key"].startswith(f"jobs/{second['job_id']}/")
        assert client.get(f"/v1/generations/{second['job_id']}/download/{name}").content == \
            client.get(f"/v1/generations/{first['job_id']}/download/{name}").content
    manifest = json.loads(client.get(f"/v1/generations/{second['job_id']}/download/manifest.json").content)
    assert manifest["details"]["cache"]["hit"] is True

    opted_out = wait_for_status(client, submit(client, **body, use_cache=False))
    assert "cache" not in opted_out["details"] and "generating_scene" in opted_out["timings"]
    other_seed = wait_for_status(client, submit(client, **{**body, "seed": 43}))
    assert "cache" not in other_seed["details"]
