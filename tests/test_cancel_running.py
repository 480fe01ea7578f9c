"""Canceling a running job through the API: the stage stops at its next checkpoint, nothing after it runs.

Real redis and Celery worker (the session's); the scene stage is the stub's slow one, whose every 0.1 s
step is a checkpoint (``ctx.report``), so a cancel must end it long before its 30 s are up.
"""

from __future__ import annotations

import pytest
from celery.result import AsyncResult

from infra.local.stack import wait_until
from shared.celery_app import app

pytestmark = pytest.mark.usefixtures("worker")

SLOW_SCENE_S = 30


def test_cancel_while_running_stops_at_the_next_checkpoint_and_nothing_later_runs(client, data_dir):
    body = {"kind": "env", "prompt": "a slow canyon to cancel", "use_cache": False,
            "providers": {"plan": "stub", "env": "faults"}, "options": {"env": {"sleep_s": SLOW_SCENE_S}}}
    job_id = client.post("/v1/generations", json=body).json()["job_id"]

    def in_scene_stage() -> bool:
        status = client.get(f"/v1/generations/{job_id}/status").json()
        return (status["status"], status["stage"], status["message"]) == ("running", "generating_scene", "working")

    wait_until(in_scene_stage, 60, "the scene stage to be working", interval_s=0.05)
    canceled = client.post(f"/v1/generations/{job_id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"

    job = client.get(f"/v1/generations/{job_id}").json()
    _, scene_task, finalize_task = (AsyncResult(task_id, app=app) for task_id in job["celery_task_ids"])
    # The stage gives up at a checkpoint: skipped (IGNORED), with no scene.glb stored (asserted below).
    wait_until(lambda: scene_task.state == "IGNORED", 60, "the scene stage to stop", interval_s=0.05)
    assert "no longer running" in scene_task.result["skipped"]
    # Never delivered: a delivery would have been skipped, and a skip is recorded as IGNORED.
    assert finalize_task.state == "PENDING"

    job = client.get(f"/v1/generations/{job_id}").json()
    assert job["status"] == "canceled" and job["stage"] == "generating_scene" and job["error"] is None
    assert job["attempts"] == {"planning": 1, "generating_scene": 1}
    assert set(job["timings"]) == {"planning"}  # the scene stage did not finish, finalize never started
    assert set(job["artifacts"]) == {"plan.json"}
    folder = data_dir / "objects" / "jobs" / job_id
    assert sorted(path.name for path in folder.rglob("*") if path.is_file()) == ["plan.json"]
    assert client.get(f"/v1/generations/{job_id}/download/manifest.json").status_code == 404
