"""A splat job through the service: upload a video made in code, follow the job, get scene.splat."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shared.splat.sample_video import FRAMES, render_orbit_video
from tests.conftest import wait_for_status

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def orbit_video(tmp_path_factory) -> bytes:
    return render_orbit_video(tmp_path_factory.mktemp("video") / "orbit.mp4").read_bytes()


def test_video_upload_to_completed_splat_job(client, orbit_video):
    upload = client.post("/v1/uploads", files={"file": ("orbit.mp4", orbit_video, "video/mp4")})
    assert upload.status_code == 201, upload.text
    assert upload.json()["content_type"] == "video/mp4"
    # The default trainer (cpu), held to 5 steps: this checks the plumbing (the trainer's tests check quality).
    created = client.post("/v1/generations", json={"kind": "splat", "video": upload.json()["upload_id"],
                                                   "options": {"train": {"iterations": 5}}})
    assert created.status_code == 202, created.text
    job = wait_for_status(client, created.json()["job_id"], timeout_s=240)
    assert job["status"] == "completed", job
    assert job["providers"] == {"train": "cpu"}
    assert job["request"]["video"] == upload.json()["key"]
    assert {"extracting_frames", "structure_from_motion", "training_splats", "converting"} <= set(job["timings"])

    details = job["details"]
    assert details["frames"] >= 0.8 * FRAMES and details["frames_registered"] >= 0.8 * details["frames"]
    splat = client.get(f"/v1/generations/{job['job_id']}/download").content
    assert len(splat) == 32 * details["splats"] > 0
    positions = np.frombuffer(splat, dtype=np.float32).reshape(-1, 8)[:, :3]
    low, high = np.array(details["bounds"]["min"]), np.array(details["bounds"]["max"])
    assert np.all(positions >= low - 1e-4) and np.all(positions <= high + 1e-4)
    manifest = json.loads(client.get(f"/v1/generations/{job['job_id']}/download/manifest.json").content)
    assert manifest["kind"] == "splat" and manifest["details"]["splats"] == details["splats"]
    assert {"scene.splat", "scene.spz", "point_cloud.ply", "thumbnail.jpg", "evaluation/heldout_frame.jpg",
            "evaluation/heldout_render.jpg"} <= set(manifest["artifacts"])
    # 5 steps is too short a budget: the job completes and says so, in its message and its manifest.
    assert details["training_steps"] == 5 and details["heldout_frames"] and details["heldout_psnr"] > 0
    assert manifest["details"]["quality_verdict"] == "poor"
    assert job["message"].startswith("completed, but the result is poor")
    assert any("5 training steps" in reason for reason in manifest["details"]["quality_reasons"])


def test_splat_job_needs_one_video_or_frames(client):
    assert client.post("/v1/generations", json={"kind": "splat"}).status_code == 422
    unknown = client.post("/v1/generations", json={"kind": "splat", "video": "0" * 32})
    assert unknown.status_code == 422 and "no uploaded video" in unknown.json()["message"]
    traversal = client.post("/v1/generations", json={"kind": "splat", "video": "../../etc/passwd"})
    assert traversal.status_code == 422 and traversal.json()["code"] == "invalid_key"


def test_a_video_that_is_not_a_video_fails_with_a_clear_error(client):
    fake = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000
    upload = client.post("/v1/uploads", files={"file": ("fake.mp4", fake, "video/mp4")}).json()
    job_id = client.post("/v1/generations", json={"kind": "splat", "video": upload["upload_id"]}).json()["job_id"]
    job = wait_for_status(client, job_id)
    assert job["status"] == "failed"
    assert job["error"]["stage"] == "extracting_frames" and "Traceback" not in job["error"]["message"]
