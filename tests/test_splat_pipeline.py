"""The splat pipeline end to end on a video rendered here: frames -> COLMAP -> splats -> .splat.

The scene is a textured box in a textured room, ray-cast in numpy from a camera orbiting the box,
encoded to H.264 with PyAV. Every stage runs through a real StageContext on SQLite and a local
object store, each in its own scratch folder, as separate workers would.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.config import Settings
from shared.errors import ProviderError
from shared.pipeline.splat import (
    CONVERT_PROGRESS,
    EXTRACT_PROGRESS,
    SFM_PROGRESS,
    TRAIN_PROGRESS,
    convert,
    extract_frames,
    structure_from_motion,
    train_splats,
)
from shared.splat.ply import open_ply, read_gaussians
from shared.splat.sample_video import FRAMES, HEIGHT, WIDTH, encode_video, orbit_frames
from shared.splat.spz import DEFAULT_FRACTIONAL_BITS
from tests.test_sdxl_triposr import cuda_available
from tests.test_splat_convert import check_round_trip
from tests.test_splat_formats import check_spz, read_with_splat_transform
from tests.test_splat_video import SplatJob


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> SplatJob:
    root = tmp_path_factory.mktemp("splat")
    video = encode_video(orbit_frames(), root / "orbit.mp4", fps=12)
    settings = Settings(data_dir=root, splat_frame_rate=12, splat_max_frames=40, splat_frame_max_side=WIDTH,
                        splat_sfm_max_features=1024)
    job = SplatJob(root, {"video": "videos/uploaded/orbit.mp4"}, settings)
    job.objects.put_file("videos/uploaded/orbit.mp4", video)
    for stage, progress, work in (("extracting_frames", EXTRACT_PROGRESS, extract_frames),
                                  ("structure_from_motion", SFM_PROGRESS, structure_from_motion),
                                  ("training_splats", TRAIN_PROGRESS, train_splats),
                                  ("converting", CONVERT_PROGRESS, convert)):
        job.run(stage, progress, work)
    return job


def artifact(job: SplatJob, name: str) -> bytes:
    return job.objects.get_bytes(f"jobs/{job.job_id}/{name}")


def tmp_ply(job: SplatJob) -> Path:
    path = job.root / "trained.ply"
    path.write_bytes(artifact(job, "point_cloud.ply"))
    return path


def test_video_to_splat_registers_the_frames_and_writes_every_artifact(finished):
    job = finished
    record = job.jobs.get(job.job_id)
    sfm = json.loads(artifact(job, "sfm.json"))
    frames = json.loads(artifact(job, "frames.json"))
    assert frames["candidates"] == FRAMES and frames["dropped_blurry"] == 2
    assert sfm["frames"] == len(frames["frames"]) == FRAMES - 2
    assert sfm["registered"] >= 0.8 * sfm["frames"]
    assert sfm["points"] > 500 and sfm["mean_reprojection_error_px"] < 2

    names = set(record["artifacts"])
    assert {f"frames/frame_{i:04d}.jpg" for i in range(1, FRAMES - 1)} <= names
    assert {"sparse/0/cameras.bin", "sparse/0/images.bin", "sparse/0/points3D.bin", "point_cloud.ply",
            "scene.splat", "scene.spz", "thumbnail.jpg", "frames.json", "sfm.json", "training.json",
            "splat.json"} <= names
    assert record["progress"] == CONVERT_PROGRESS[1]

    details = job.record["details"]  # what the converting stage wrote for the manifest
    training = json.loads(artifact(job, "training.json"))
    assert training["sfm_points"] == sfm["points"]
    assert 0.9 * sfm["points"] <= details["splats"] == training["splats"] == len(artifact(job, "scene.splat")) // 32
    assert details["trainer"] == "points" and details["frames_registered"] == sfm["registered"]
    assert all(lo < hi for lo, hi in zip(details["bounds"]["min"], details["bounds"]["max"], strict=True))
    # The thumbnail is the render of a held-out view, stored beside that frame (undistorted, so a little cropped).
    render = Image.open(io.BytesIO(artifact(job, "evaluation/heldout_render.jpg")))
    frame = Image.open(io.BytesIO(artifact(job, "evaluation/heldout_frame.jpg")))
    thumbnail = Image.open(io.BytesIO(artifact(job, "thumbnail.jpg")))
    assert thumbnail.format == "JPEG" and thumbnail.size == render.size == frame.size
    assert WIDTH - 8 <= render.size[0] <= WIDTH and HEIGHT - 8 <= render.size[1] <= HEIGHT
    assert np.abs(np.asarray(thumbnail, float) - np.asarray(render, float)).mean() < 3
    # The viewer opens where the thumbnail was rendered from: that held-out camera, looking at the scene.
    view = json.loads(artifact(job, "splat.json"))["view"]
    assert view == training["evaluation"]["shown_camera"] and 20 < view["fov_y_deg"] < 120
    forward, up, position = (np.array(view[key]) for key in ("forward", "up", "position"))
    assert abs(np.linalg.norm(forward) - 1) < 1e-5 and abs(forward @ up) < 1e-5
    points = open_ply(tmp_ply(job), max_vertices=10**6, max_bytes=1 << 30)
    depth = (np.stack([points["x"], points["y"], points["z"]], axis=1) - position) @ forward
    assert np.median(depth) > 0  # most of the splats lie in front of that camera


def test_every_trainer_is_scored_on_frames_it_did_not_see(finished):
    """The points preview on the noise box: every 8th registered frame held out, scored, and called poor."""
    job = finished
    sfm = json.loads(artifact(job, "sfm.json"))
    training = json.loads(artifact(job, "training.json"))
    evaluation = training["evaluation"]
    assert evaluation["heldout_frames"] == sfm["registered_frames"][::8]
    assert not set(evaluation["heldout_frames"]) & set(evaluation["train_frames_scored"])
    assert evaluation["shown_frame"] in evaluation["heldout_frames"]
    assert 10 < evaluation["heldout_psnr"] < 25 and 0 < evaluation["heldout_ssim"] < 1
    assert training["quality"] == "poor"  # an untrained preview stays under the 20 dB floor
    assert any("0 training steps" in reason for reason in training["quality_reasons"])
    details = job.record["details"]  # what the converting stage wrote for the manifest
    assert details["heldout_psnr"] == evaluation["heldout_psnr"] and details["quality_verdict"] == "poor"
    assert details["heldout_frames"] == evaluation["heldout_frames"] and details["training_steps"] == 0


def test_scene_splat_holds_the_trained_ply(finished, tmp_path):
    gaussians = read_gaussians(tmp_ply(finished), max_vertices=10**6, max_bytes=1 << 30)
    check_round_trip(gaussians, artifact(finished, "scene.splat"))
    (tmp_path / "scene.spz").write_bytes(artifact(finished, "scene.spz"))
    report = json.loads(artifact(finished, "splat.json"))["spz"]
    assert report == {"splats": len(gaussians), "sh_degree": 3, "fractional_bits": DEFAULT_FRACTIONAL_BITS,
                      "bytes": len(artifact(finished, "scene.spz"))}
    check_spz(read_with_splat_transform(tmp_path / "scene.spz"), gaussians, DEFAULT_FRACTIONAL_BITS)
    assert np.allclose(1 / (1 + np.exp(-gaussians.opacities)), 0.6)  # the points provider's preview opacity
    assert np.all(gaussians.quats == [1, 0, 0, 0]) and np.all(gaussians.sh_rest == 0)


def test_gsplat_views_load_on_the_cpu_and_see_the_sparse_points(finished, tmp_path):
    """The gsplat provider's data path: undistorted pinhole views whose matrices project the cloud into frame."""
    from shared.splat import artifacts, gsplat_train
    from shared.splat.sfm import load_points

    ctx = finished.context("training_splats", TRAIN_PROGRESS)
    model = artifacts.download_model(ctx, tmp_path / "sparse")
    artifacts.download_frames(ctx, tmp_path / "images")
    views = gsplat_train.load_views(model, tmp_path / "images", tmp_path)
    sfm = json.loads(artifact(finished, "sfm.json"))
    assert [v.name for v in views] == sfm["registered_frames"]
    assert all(v.image_path.is_file() and Image.open(v.image_path).size == (v.width, v.height) for v in views)
    assert gsplat_train.scene_scale(views) > 0

    xyz, _ = load_points(model)
    for view in views[:: len(views) // 4]:
        camera = xyz @ view.world_to_camera[:3, :3].T + view.world_to_camera[:3, 3]
        pixels = camera @ view.intrinsics.T
        pixels = pixels[:, :2] / pixels[:, 2:]
        inside = (camera[:, 2] > 0) & (pixels[:, 0] >= 0) & (pixels[:, 0] < view.width) & (pixels[:, 1] >= 0) & (
            pixels[:, 1] < view.height)
        assert inside.mean() > 0.3  # each view sees a good part of the cloud


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="gsplat's rasterizer needs a CUDA GPU; this machine has none")
def test_gsplat_trains_from_the_sfm_model(finished):
    ctx = finished.context("training_splats", TRAIN_PROGRESS)
    ctx.job = {**ctx.job, "providers": {"train": "gsplat"},
               "request": {**ctx.request, "options": {"train": {"iterations": 300}}}}
    train_splats(ctx)
    training = json.loads(artifact(finished, "training.json"))
    assert training["trainer"] == "gsplat" and training["iterations"] == 300 and training["splats"] > 0
    assert training["evaluation"]["heldout_psnr"] is not None


def test_sfm_fails_clearly_when_frames_do_not_overlap(tmp_path):
    rng = np.random.default_rng(3)
    job = SplatJob(tmp_path, {"frames_prefix": "captures/noise/"},
                   Settings(data_dir=tmp_path, splat_frame_max_side=160, splat_blur_drop_fraction=0,
                            splat_sfm_max_features=300))
    for i in range(5):
        out = io.BytesIO()
        Image.fromarray((rng.random((120, 160, 3)) * 255).astype(np.uint8)).save(out, "PNG")
        job.objects.put_bytes(f"captures/noise/{i}.png", out.getvalue())
    job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)
    with pytest.raises(ProviderError, match=r"no consistent camera poses among 5 frames|registered \d of 5 frames"):
        job.run("structure_from_motion", SFM_PROGRESS, structure_from_motion)
    assert not job.objects.list(f"jobs/{job.job_id}/sparse/")


def test_canceling_during_mapping_stops_colmap_and_raises(finished, tmp_path):
    """A checkpoint raising inside COLMAP's callback cancels the mapper instead of unwinding through C++."""
    from shared.errors import JobCanceled
    from shared.splat import artifacts
    from shared.splat.sfm import SfmOptions, reconstruct

    ctx = finished.context("structure_from_motion", SFM_PROGRESS)
    names = artifacts.download_frames(ctx, tmp_path / "images", [artifacts.frame_name(i) for i in range(1, 9)])
    seen: list[str] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(message)
        if message.startswith("registered"):
            raise JobCanceled("job canceled")

    with pytest.raises(JobCanceled):
        reconstruct(tmp_path / "images", names, tmp_path, SfmOptions(512, 5, 0.5), progress)
    assert sum(m.startswith("registered") for m in seen) <= 2
    assert not (tmp_path / "sparse" / "0").exists()


def test_cpu_trainer_trains_on_the_frames_not_held_out(finished):
    """Last in the module: it replaces the job's PLY and reports."""
    ctx = finished.context("training_splats", TRAIN_PROGRESS)
    ctx.settings = ctx.settings.model_copy(update={"splat_cpu_max_side": 128, "splat_eval_max_side": 128})
    ctx.job = {**ctx.job, "providers": {"train": "cpu"},
               "request": {**ctx.request, "options": {"train": {"iterations": 120}}}}
    train_splats(ctx)
    sfm = json.loads(artifact(finished, "sfm.json"))
    training = json.loads(artifact(finished, "training.json"))
    held = training["evaluation"]["heldout_frames"]
    assert training["trainer"] == "cpu" and training["iterations"] == 120 and training["stopped_by"] == "iterations"
    assert training["training_views"] == sfm["registered"] - len(held) > 0
    assert training["splats"] > 0 and training["evaluation"]["heldout_psnr"] > 15
    assert sum(training["steps_per_scale"].values()) == 120 and training["steps_per_scale"]["1/1"] > 0
