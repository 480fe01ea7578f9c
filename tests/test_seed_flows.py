"""The seeds' own clients, call for call, against a real API server and worker.

``sprint2-envgen.md``: ``POST /v1/generations {"prompt"}`` -> ``task_id``; ``GET …/{task_id}/status`` until
``state`` is ``SUCCESS``; ``GET …/{job_id}/presigned`` -> ``manifest_url`` and ``scene_url``, both downloadable,
the manifest valid against the seed's ``manifest.v0.json`` and ours. ``sprint0-scaffolding.md``: a
prompt-only POST, status polling, and the viewer's calls from its own origin. (The multi-view reference's
``/3d/*`` routes: ``test_compat_routes.py``; the S3 workflow's helpers: ``test_s3_workflow.py``.)
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator

from shared.schemas.manifest import validate_manifest
from tests.conftest import poll

# The schema as sprint2-envgen.md prints it (``shared/schemas/manifest.v0.json`` of that sprint), verbatim.
SEED_MANIFEST_SCHEMA = json.loads("""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "MMF Manifest v0",
  "type": "object",
  "required": ["job_id", "prompt", "artifacts", "provenance"],
  "properties": {
    "job_id": { "type": "string" },
    "prompt": { "type": "string" },
    "artifacts": {
      "type": "object",
      "properties": {
        "scene_glb": { "type": "string" },
        "refs": { "type": "array", "items": { "type": "string" } }
      }
    },
    "provenance": { "type": "object" }
  }
}
""")


@pytest.fixture
def api(live_api):
    with httpx.Client(base_url=live_api, timeout=30) as client:
        yield client


def fetch_signed(api: httpx.Client, url: str) -> httpx.Response:
    """A signed URL of the local store, fetched from the server under test (its host is PUBLIC_BASE_URL's)."""
    parts = urlsplit(url)
    return api.get(f"{parts.path}?{parts.query}")


def test_sprint2_env_generation_flow(api):
    # 2) Submit a generation
    reply = api.post("/v1/generations", headers={"content-type": "application/json"},
                     content='{"prompt":"misty cyberpunk alley with neon"}')
    assert reply.status_code == 202, reply.text
    task_id = reply.json()["task_id"]

    # 3) Poll status
    status = poll(lambda: api.get(f"/v1/generations/{task_id}/status").json(),
                  lambda body: body["state"] in ("SUCCESS", "FAILURE", "REVOKED"), 90, f"task {task_id} to end")
    assert status["state"] == "SUCCESS" and status["status"] == "completed", status
    job_id = status["job_id"]

    # 4) Get presigned URLs
    urls = api.get(f"/v1/generations/{job_id}/presigned").json()
    scene = fetch_signed(api, urls["scene_url"])
    assert scene.status_code == 200 and scene.content[:4] == b"glTF"
    manifest = fetch_signed(api, urls["manifest_url"]).json()
    Draft202012Validator(SEED_MANIFEST_SCHEMA).validate(manifest)
    validate_manifest(manifest)
    assert manifest["job_id"] == job_id and manifest["prompt"] == "misty cyberpunk alley with neon"
    assert manifest["artifacts"]["scene_glb"] == f"jobs/{job_id}/scene.glb" == manifest["artifacts"]["scene.glb"]["key"]
    assert manifest["artifacts"]["refs"] == []  # the procedural scene works from no pictures


def test_sprint0_prompt_only_job_polled_to_the_end_from_the_viewers_origin(api):
    origin = {"Origin": "http://localhost:3000"}
    preflight = api.options("/v1/generations", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"

    created = api.post("/v1/generations", json={"prompt": "misty cyberpunk alley"}, headers=origin)
    assert created.status_code == 202 and created.headers["access-control-allow-origin"] == "http://localhost:3000"
    body = created.json()
    assert body["status"] == "queued" and body["job_id"] == body["task_id"]

    seen: list[str] = []

    def status() -> dict:
        reply = api.get(f"/v1/generations/{body['job_id']}/status", headers=origin)
        assert reply.headers["access-control-allow-origin"] == "http://localhost:3000"
        if not seen or seen[-1] != reply.json()["status"]:
            seen.append(reply.json()["status"])
        return reply.json()

    done = poll(status, lambda reply: reply["status"] in ("completed", "failed", "canceled"), 90, "the job to end")
    assert done["status"] == "completed" and done["job_id"] == body["job_id"], done
    assert [state for state in ("queued", "running", "completed") if state in seen] == seen, seen


def test_status_carries_celery_states_for_every_status():
    from typing import get_args

    from shared.schemas.api import CELERY_STATES, JobStatus, JobStatusName

    assert set(CELERY_STATES) == set(get_args(JobStatusName))
    reply = JobStatus(job_id="j", kind="env", status="failed", stage="planning", progress=10, message=None,
                      error=None).model_dump()
    assert reply["state"] == "FAILURE" and reply["status"] == "failed"
