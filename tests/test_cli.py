"""The ``mmf`` CLI as a person runs it: a subprocess against a real stack (redis, a worker, a uvicorn API)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from apps.cli import progress
from apps.cli.client import Unreachable
from infra.local import stack
from tests.conftest import wait_for_status

ROOT = Path(__file__).resolve().parents[1]
FAST_ENV = ["--provider", "env=stub", "--provider", "plan=stub"]


@pytest.fixture(scope="module")
def api_url(live_api):
    return live_api


def mmf(api_url: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "MMF_API_URL": api_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "apps.cli.main", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def job_id_of(result: subprocess.CompletedProcess) -> str:
    match = re.search(r"submitted ([0-9a-f]{32})", result.stderr)
    assert match, result.stderr
    return match.group(1)


def test_env_job_waits_with_progress_and_downloads_the_same_bytes(api_url, tmp_path):
    result = mmf(api_url, "env", "misty alley", "--seed", "7", "--wait")  # the default providers: a few seconds
    assert result.returncode == 0, result.stderr
    job_id = job_id_of(result)
    # Not a terminal: one line per change, each with a bar, a percentage and the stage.
    assert re.search(rf"^{job_id[:12]}  misty alley\s+\[#+\]\s+100%\s+completed\s+finalizing$", result.stderr, re.M)
    assert re.search(r"\[[#-]+\]\s+\d+%\s+(queued|running)", result.stderr)
    assert f"{job_id}  env  completed" in result.stdout

    downloaded = mmf(api_url, "download", job_id, "-o", str(tmp_path))
    assert downloaded.returncode == 0, downloaded.stderr
    glb = tmp_path / "scene.glb"
    assert glb.read_bytes() == httpx.get(f"{api_url}/v1/generations/{job_id}/download").content
    assert glb.read_bytes()[:4] == b"glTF"

    manifest = mmf(api_url, "download", job_id, "manifest.json", "-o", str(tmp_path), "--json")
    assert json.loads(manifest.stdout)["path"] == str(tmp_path / "manifest.json")
    assert json.loads((tmp_path / "manifest.json").read_text())["job_id"] == job_id


def test_a_failing_job_exits_1_with_its_error(api_url):
    result = mmf(api_url, "env", "x", "--provider", "env=faults", "--option", "env.fail_message=boom", "--wait")
    assert result.returncode == 1, result.stderr
    assert re.search(r"failed\s+generating_scene\s+boom", result.stderr)
    assert re.search(r"env  failed  generating_scene  \d+%  error: boom \[provider_error\]", result.stdout)


def test_json_output_parses_for_scripts(api_url):
    waited = mmf(api_url, "--json", "env", "json please", *FAST_ENV, "--provider", "env=faults",
                 "--option", "env.transient_faults=1", "--wait")
    assert waited.returncode == 0, waited.stderr
    final = json.loads(waited.stdout)
    assert final["status"] == "completed" and final["progress"] == 100 and final["error"] is None
    job_id = final["job_id"]

    submitted = json.loads(mmf(api_url, "env", "no wait", *FAST_ENV, "--json").stdout)
    assert submitted["status"] == "queued" and submitted["status_url"].endswith(f"/{submitted['job_id']}/status")

    status = json.loads(mmf(api_url, "status", job_id, "--json").stdout)
    assert final["label"] == "json please" and status == {k: v for k, v in final.items() if k != "label"}
    listed = json.loads(mmf(api_url, "ls", "--limit", "50", "--json").stdout)
    assert job_id in {job["job_id"] for job in listed["items"]}

    missing = mmf(api_url, "status", "0" * 32, "--json")
    assert missing.returncode == 2
    assert json.loads(missing.stdout)["error"]["code"] == "job_not_found"


def test_human_commands_and_their_errors(api_url):
    done = mmf(api_url, "env", "to list", *FAST_ENV, "--wait")
    job_id = job_id_of(done)
    listing = mmf(api_url, "ls", "--limit", "5", "--kind", "env")
    assert listing.returncode == 0 and job_id in listing.stdout and listing.stdout.startswith("JOB")
    assert mmf(api_url, "status", job_id).stdout.startswith(f"{job_id}  env  completed")

    finished = mmf(api_url, "cancel", job_id)
    assert finished.returncode == 2 and "[job_finished, HTTP 409]" in finished.stderr
    no_artifact = mmf(api_url, "download", job_id, "nope.bin")
    assert no_artifact.returncode == 2 and "artifacts: " in no_artifact.stderr
    invalid = mmf(api_url, "env", "x", "--provider", "env=no_such_provider")
    assert invalid.returncode == 2 and "unknown_provider" in invalid.stderr
    assert mmf(api_url, "env", "x", "--option", "fail_message=boom").returncode == 2
    unreachable = mmf(f"http://127.0.0.1:{stack.free_port()}", "ls")
    assert unreachable.returncode == 2 and "cannot reach the API" in unreachable.stderr


def _offers(api_url: str, kind: str) -> bool:
    return kind in httpx.get(f"{api_url}/v1/providers").json()["kinds"]


def test_image_and_batch_upload_and_submit_image_to_3d(api_url, tmp_path):
    """Photos are uploaded, then one job names them all; a batch makes one job per key. A server without
    image_to_3d answers 422, and the CLI shows its message."""
    from PIL import Image, ImageDraw

    photos = []
    for index, color in enumerate(("red", "blue")):  # a coloured object on a plain backdrop: a subject to find
        photos.append(tmp_path / f"photo{index}.png")
        picture = Image.new("RGB", (64, 48), (235, 235, 235))
        ImageDraw.Draw(picture).ellipse((16, 8, 48, 40), fill=color)
        picture.save(photos[-1])
    keys = [httpx.post(f"{api_url}/v1/uploads", files={"file": (p.name, p.read_bytes(), "image/png")}).json()["key"]
            for p in photos]
    (tmp_path / "keys.txt").write_text(f"# two uploads\n{keys[0]}\n\n{keys[1]}\n")

    image = mmf(api_url, "image", *map(str, photos), "--wait")
    batch = mmf(api_url, "batch", str(tmp_path / "keys.txt"), "--json")
    assert image.stderr.count("uploaded ") == 2
    if _offers(api_url, "image_to_3d"):
        assert image.returncode == 0, image.stderr
        assert batch.returncode == 0 and len(json.loads(batch.stdout)) == 2
    else:
        assert image.returncode == 2 and "image_to_3d" in image.stderr and "HTTP 422" in image.stderr
        assert batch.returncode == 2
        assert [entry["label"] for entry in json.loads(batch.stdout)] == keys


def test_image_takes_a_box_or_a_mask_per_picture(api_url, tmp_path):
    """``--box`` and ``--mask`` become ``options.segment.pictures``, in the images' order, masks uploaded;
    a box that is not four numbers, or both for one picture, is a usage error before anything is sent."""
    from PIL import Image

    photos = []
    for index in range(3):
        photos.append(tmp_path / f"photo{index}.png")
        Image.new("RGB", (64, 48), (200, 40 * index, 40)).save(photos[-1])
    mask = tmp_path / "mask.png"
    Image.new("L", (64, 48), 255).save(mask)

    made = mmf(api_url, "image", *map(str, photos), "--box", "4,5,60,40", "--box", "-", "--mask", "-",
               "--mask", "-", "--mask", str(mask))
    assert made.stderr.count("uploaded ") == 4, made.stderr  # three photos and the mask
    if _offers(api_url, "image_to_3d"):
        assert made.returncode == 0, made.stderr
        job = httpx.get(f"{api_url}/v1/generations/{job_id_of(made)}").json()
        box, automatic, masked = job["request"]["options"]["segment"]["pictures"]
        assert box == {"box": [4.0, 5.0, 60.0, 40.0]} and automatic is None
        mask_upload = re.search(r"uploaded \S*mask\.png as (\S+)", made.stderr).group(1)
        assert list(masked) == ["mask"] and mask_upload in masked["mask"]
    else:
        assert made.returncode == 2 and "HTTP 422" in made.stderr

    for flags, message in ((["--box", "1,2,3"], "--box wants left,top,right,bottom"),
                           (["--box", "1,2,3,4", "--mask", str(mask)], "has both a --box and a --mask"),
                           (["--box", "-", "--box", "-", "--box", "-", "--box", "-"], "at most one --box")):
        refused = mmf(api_url, "image", *map(str, photos), *flags)
        assert refused.returncode == 2 and message in refused.stderr and "uploaded" not in refused.stderr


def test_object_submits_text_to_3d_with_the_asset_flags(api_url):
    made = mmf(api_url, "object", "a red mug", "--format", "obj", "--no-texture", "--quality", "high")
    if _offers(api_url, "text_to_3d"):
        assert made.returncode == 0, made.stderr
        request = httpx.get(f"{api_url}/v1/generations/{job_id_of(made)}").json()["request"]
        assert request["prompt"] == "a red mug" and request["output_format"] == "obj"
        assert request["with_texture"] is False and request["quality_tier"] == "high"
    else:
        assert made.returncode == 2 and "HTTP 422" in made.stderr
    refused = mmf(api_url, "object", "a red mug", "--format", "gltf")
    assert refused.returncode == 2 and "invalid choice" in refused.stderr


def test_splat_uploads_the_video(api_url, tmp_path):
    video = tmp_path / "walk.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)  # sniffed as MP4; never decoded here
    result = mmf(api_url, "splat", str(video), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "queued"


class _BrokenStream:
    """An API whose event stream cannot be had: the watcher must poll ``/status`` instead."""

    def __init__(self) -> None:
        self.polls = [{"job_id": "j", "status": "running", "stage": "planning", "progress": 10},
                      {"job_id": "j", "status": "completed", "stage": "finalizing", "progress": 100}]

    def events(self, job_id):
        raise Unreachable("stream refused")
        yield

    def status(self, job_id):
        return self.polls.pop(0)


def test_follow_falls_back_to_polling(monkeypatch):
    monkeypatch.setattr(progress, "POLL_INTERVAL_S", 0.01)
    out = io.StringIO()
    results = progress.wait_for(_BrokenStream(), [("j", "label")], out, live=False, color=False)
    assert results["j"]["status"] == "completed"
    assert re.search(r"label\s+\[#{2}-+\]\s+10%\s+running\s+planning", out.getvalue())
    assert out.getvalue().rstrip().endswith("completed finalizing")


def test_reconcile_resends_a_job_the_broker_lost(api_url):
    from shared.jobs import get_job_store
    from shared.jobs.base import new_job_record
    from shared.pipeline import chains

    request = {"kind": "env", "prompt": "lost in the broker", "use_cache": False}
    lost = new_job_record("env", request, {"plan": "stub", "env": "stub"})
    lost["celery_task_ids"] = chains.task_ids("env", lost["job_id"])
    lost["created_at"] = "2000-01-01T00:00:00.000000+00:00"  # long past the reconciler's grace period
    get_job_store().create(lost)
    result = mmf(api_url, "reconcile", "--json")
    assert result.returncode == 0, result.stderr
    assert lost["job_id"] in json.loads(result.stdout)["requeued"]
    with httpx.Client(base_url=api_url) as client:
        assert wait_for_status(client, lost["job_id"])["status"] == "completed"  # sent again, it ran
