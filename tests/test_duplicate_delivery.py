"""One stage delivered twice, the two runs overlapping (real redis, the session's worker: two pool processes).

At-least-once delivery means a stage can run twice, and a reconciler that re-sends a job whose message
was in fact still on its way makes both runs overlap. Whatever the interleaving, each artifact must end
as one object under its key holding the bytes its record names, and the status must only move forward.
"""

from __future__ import annotations

import hashlib

import pytest

from infra.local.stack import wait_until
from shared.celery_app import app
from shared.pipeline import chains
from shared.providers.registry import provider_class
from shared.schemas.manifest import artifact_files

pytestmark = pytest.mark.usefixtures("worker")

TERMINAL = ("completed", "failed", "canceled")
ORDER = {"queued": 0, "running": 1, "completed": 2, "failed": 2, "canceled": 2}
SCENE_TASK = "env_gen.run_env"


def test_a_stage_delivered_again_while_it_runs_leaves_each_artifact_once(client, data_dir):
    body = {"kind": "env", "prompt": "a twice-told harbour", "use_cache": False,
            "providers": {"plan": "stub", "env": "faults"}, "options": {"env": {"sleep_s": 2}}}
    job_id = client.post("/v1/generations", json=body).json()["job_id"]
    seen: list[str] = []

    def look() -> dict:
        job = client.get(f"/v1/generations/{job_id}").json()
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
        return job

    def scene_runs(count: int) -> bool:
        job = look()
        assert job["status"] not in TERMINAL, f"ended before {count} scene run(s) overlapped: {job}"
        return job["attempts"].get("generating_scene") == count and "scene.glb" not in job["artifacts"]

    wait_until(lambda: scene_runs(1), 60, "the scene stage to start", interval_s=0.02)
    # The scene stage's message once more, as a redelivery is: same task id, same queue, no chain after it.
    app.send_task(SCENE_TASK, args=(job_id,), task_id=chains.task_id(job_id, SCENE_TASK),
                  queue=provider_class("env", "stub").queue)
    # The second run started before the first stored its scene: the two overlap.
    wait_until(lambda: scene_runs(2), 30, "the second scene run to start", interval_s=0.02)
    wait_until(lambda: look()["status"] in TERMINAL, 60, "the job to end", interval_s=0.02)
    done = look()

    assert done["status"] == "completed", done
    assert seen == ["running", "completed"] or seen == ["queued", "running", "completed"], seen
    assert done["attempts"] == {"planning": 1, "generating_scene": 2, "finalizing": 1}, done["attempts"]
    folder = data_dir / "objects" / "jobs" / job_id
    stored = {path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file()}
    assert set(stored) == set(done["artifacts"]) == {"plan.json", "scene.glb", "manifest.json"}
    for name, info in done["artifacts"].items():
        data = stored[name].read_bytes()
        assert info["key"] == f"jobs/{job_id}/{name}" and info["bytes"] == len(data), (name, info)
        assert info["sha256"] == hashlib.sha256(data).hexdigest(), f"{name} differs from its record"
    manifest = client.get(f"/v1/generations/{job_id}/download/manifest.json").json()
    assert artifact_files(manifest) == {name: done["artifacts"][name] for name in ("plan.json", "scene.glb")}
