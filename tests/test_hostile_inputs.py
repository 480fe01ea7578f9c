"""Hostile input files: videos and GLBs cut short or lying in their headers.

Each must fail its stage with an error that says what is wrong (not a parser's internal message, not
a 500, not a job left running), with a bounded peak memory, and the worker that met one keeps serving.
GLBs are never a client's input: the one GLB we parse is ``reconstruction.glb``, which post-processing
reads and which a SageMaker container (or a provider's exporter) may have written.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import re
import struct
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh

from shared.config import Settings
from shared.pipeline.assets import POSTPROCESS_PROGRESS, RECONSTRUCTION, post_process
from shared.pipeline.splat import EXTRACT_PROGRESS, extract_frames
from shared.splat.sample_video import encode_video
from tests.conftest import wait_for_status
from tests.media import moving_pattern
from tests.stage_jobs import StageJob

# Python with numpy, PyAV, PIL and trimesh loaded takes ~150 MB; one 8K frame decoded is ~50 MB more.
PEAK_RSS_BOUND_MB = 400


def _patched(data: bytes, box: bytes, offset: int, fmt: str, value: int) -> bytes:
    """``data`` with one field of its first ``box`` (offset from the box type) overwritten."""
    patched = bytearray(data)
    struct.pack_into(fmt, patched, data.index(box) + offset, value)
    return bytes(patched)


@pytest.fixture(scope="module")
def hostile_videos(tmp_path_factory) -> dict[str, tuple[bytes, str]]:
    """Name -> (file, what the error must say). All start with an mp4 ``ftyp``, so uploads accept them."""
    folder = tmp_path_factory.mktemp("videos")
    plain = encode_video(moving_pattern(30), folder / "plain.mp4", fps=10).read_bytes()  # index (moov) last
    fast = encode_video(moving_pattern(30), folder / "fast.mp4", fps=10,
                        container_options={"movflags": "faststart"}).read_bytes()  # index first
    bomb = encode_video([np.zeros((4320, 7680, 3), np.uint8)] * 2, folder / "bomb.mp4", fps=2).read_bytes()
    # The sample table's one entry (30 frames, each `delta` apart) stretched: frames 20 minutes apart.
    delta = struct.unpack_from(">I", fast, fast.index(b"stts") + 16)[0]
    stretched = _patched(fast, b"stts", 16, ">I", delta * 12000)
    return {
        "cut in half, index lost": (plain[:len(plain) // 2], "not a readable video"),
        "cut inside its index": (fast[:fast.index(b"moov") + 40], "no readable video track"),
        "cut after its index": (fast[:fast.index(b"mdat") + 16], "could not be decoded"),
        "frames 20 minutes apart": (stretched, r"only 1 frame\(s\) could be taken"),
        "8K frames in 9 KB": (bomb, "7680x4320, over the limit of 8294400 pixels"),
    }


def _glb(document: dict[str, Any], binary: bytes) -> bytes:
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body


def _split(glb: bytes) -> tuple[dict[str, Any], bytes]:
    """A GLB's JSON document and its binary chunk's payload."""
    json_length = struct.unpack_from("<I", glb, 12)[0]
    return json.loads(glb[20:20 + json_length]), glb[28 + json_length:]


def hostile_glbs() -> dict[str, tuple[bytes, str]]:
    good = trimesh.creation.box().export(file_type="glb")
    json_length = struct.unpack_from("<I", good, 12)[0]
    document, binary = _split(good)
    for accessor in document["accessors"]:
        accessor["count"] = 2**30  # 4 GiB of indices claimed, 144 bytes there
    empty = {"asset": {"version": "2.0"}, "scenes": [{"nodes": []}], "scene": 0}
    return {
        "empty file": (b"", "is not a readable GLB"),
        "cut in its header": (good[:10], "is not a readable GLB"),
        "cut in its JSON": (good[:20 + json_length // 2], "is not a readable GLB"),
        "cut in its binary": (good[:len(good) - 40], "is not a readable GLB"),
        "accessors claim 2**30 items": (_glb(document, binary), "is not a readable GLB"),
        "valid, no mesh at all": (_glb(empty, b""), "holds no triangles"),
    }


def test_the_glb_builder_writes_readable_files():
    """So the lying GLBs above fail for their lie, not for how they were put together."""
    rebuilt = _glb(*_split(trimesh.creation.box().export(file_type="glb")))
    assert len(trimesh.load(io.BytesIO(rebuilt), file_type="glb", force="mesh").faces) == 12


def _run_stages(kind: str, root: str, cases: dict[str, bytes]) -> dict[str, Any]:
    """In a fresh process: run the stage on every case; the outcome of each and the process's peak RSS."""
    outcomes: dict[str, Any] = {}
    for number, (name, data) in enumerate(cases.items()):
        folder = Path(root) / str(number)
        folder.mkdir()
        settings = Settings(data_dir=folder, splat_frame_rate=5.0, splat_max_frames=20, splat_frame_max_side=96)
        if kind == "video":
            job = StageJob(folder, "splat", {"video": "videos/uploaded/input.mp4"}, settings, {"train": "points"})
            job.objects.put_bytes("videos/uploaded/input.mp4", data)
            stage, progress, work = "extracting_frames", EXTRACT_PROGRESS, extract_frames
        else:
            job = StageJob(folder, "image_to_3d", {"images": ["images/uploaded/x.png"]}, settings,
                           {"reconstruct": "relief"})
            job.objects.put_bytes(job.key(RECONSTRUCTION), data)
            stage, progress, work = "post_processing", POSTPROCESS_PROGRESS, post_process
        try:
            job.run(stage, progress, work)
            outcomes[name] = {"error": None}
        except Exception as error:
            stored = [key.removeprefix(job.key("")) for key in job.objects.list(job.key(""))]
            outcomes[name] = {"type": type(error).__name__, "message": str(error), "stored": stored}
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    return {"outcomes": outcomes, "peak_rss_mb": peak_kb / 1024}


def _in_fresh_process(kind: str, root: Path, cases: dict[str, bytes]) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_run_stages, kind, str(root), cases).result(timeout=240)


@pytest.mark.parametrize("kind", ["video", "glb"])
def test_hostile_files_fail_their_stage_clearly_in_bounded_memory(kind, request, tmp_path):
    cases = request.getfixturevalue("hostile_videos") if kind == "video" else hostile_glbs()
    result = _in_fresh_process(kind, tmp_path, {name: data for name, (data, _) in cases.items()})
    error_type, inputs = ("InvalidRequest", []) if kind == "video" else ("ProviderError", [RECONSTRUCTION])
    for name, (_, expected) in cases.items():
        outcome = result["outcomes"][name]
        assert outcome.get("type") == error_type and re.search(expected, outcome["message"]), (name, outcome)
        assert outcome["stored"] == inputs, (name, outcome)  # the failed stage stored nothing of its own
    assert result["peak_rss_mb"] < PEAK_RSS_BOUND_MB, result


@pytest.mark.usefixtures("worker")
def test_hostile_files_through_the_worker_fail_their_job_and_it_keeps_serving(client, worker, hostile_videos):
    from shared.celery_app import app
    from shared.jobs import Status, get_job_store
    from shared.jobs.base import new_job_record
    from shared.pipeline import chains
    from shared.storage import get_object_store

    video, _ = hostile_videos["cut in half, index lost"]
    upload = client.post("/v1/uploads", files={"file": ("walk.mp4", video, "video/mp4")})
    assert upload.status_code == 201, upload.text
    created = client.post("/v1/generations", json={"kind": "splat", "video": upload.json()["upload_id"]})
    assert created.status_code == 202, created.text
    splat = wait_for_status(client, created.json()["job_id"])
    assert splat["status"] == "failed", splat
    assert splat["error"]["code"] == "invalid_request" and splat["error"]["stage"] == "extracting_frames", splat
    assert "not a readable video" in splat["error"]["message"] and "Traceback" not in splat["error"]["message"]

    # A reconstruction cut short, handed to post-processing as the chain would after a cloud reconstruction.
    job = new_job_record("image_to_3d", {"kind": "image_to_3d", "images": ["images/uploaded/x.png"]},
                         {"reconstruct": "relief"})
    job_id = job["job_id"]
    get_job_store().create(job)
    get_job_store().transition(job_id, Status.RUNNING, stage="reconstructing_3d")
    glb, _ = hostile_glbs()["cut in its JSON"]
    get_object_store().put_bytes(f"jobs/{job_id}/{RECONSTRUCTION}", glb)
    app.send_task("asset_3d.post_process", args=(job_id,), task_id=chains.task_id(job_id, "asset_3d.post_process"),
                  link_error=app.signature(chains.ERROR_TASK, args=(job_id,)))
    mesh = wait_for_status(client, job_id)
    assert mesh["status"] == "failed", mesh
    assert mesh["error"]["type"] == "ProviderError" and mesh["error"]["stage"] == "post_processing", mesh
    assert mesh["error"]["message"].startswith(f"{RECONSTRUCTION} ({len(glb)} bytes) is not a readable GLB"), mesh

    healthy = client.post("/v1/generations", json={"kind": "env", "prompt": "after the hostile files",
                                                   "use_cache": False, "providers": {"plan": "stub", "env": "stub"}})
    assert wait_for_status(client, healthy.json()["job_id"])["status"] == "completed"
    assert worker.process.poll() is None
