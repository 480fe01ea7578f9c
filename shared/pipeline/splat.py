"""The ``splat`` job: frames -> structure from motion -> training -> ``.splat``. Each function is one stage.

Stages share nothing but the object store (each may run on another machine): every one fetches
its inputs from ``jobs/<id>/…``, works in ``ctx.workdir`` and stores its outputs, including a
small JSON report that later stages and the manifest's ``details`` read.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.errors import InvalidRequest
from shared.pipeline import steps
from shared.pipeline.context import StageContext, job_key
from shared.providers import registry
from shared.providers.base import SplatTrainer
from shared.splat import artifacts

if TYPE_CHECKING:
    from shared.splat.frames import Frame, FrameLimits, Sampling
    from shared.splat.gsplat_train import View
    from shared.splat.ply import Gaussians

EXTRACT_PROGRESS = steps.EXTRACT_FRAMES.progress
SFM_PROGRESS = steps.STRUCTURE_FROM_MOTION.progress
TRAIN_PROGRESS = steps.TRAIN_SPLATS.progress
CONVERT_PROGRESS = steps.CONVERT_SPLATS.progress
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _natural_key(key: str) -> list[Any]:
    """``frame_2`` before ``frame_10``: frames named without zero padding still keep capture order."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def _frame_limits(ctx: StageContext) -> tuple[FrameLimits, Sampling]:
    from shared.splat.frames import FrameLimits, Sampling

    s = ctx.settings
    return (FrameLimits(s.splat_max_video_bytes, s.splat_max_video_duration_s, s.splat_max_video_pixels),
            Sampling(s.splat_frame_rate, s.splat_max_frames, s.splat_frame_max_side, s.splat_blur_drop_fraction))


def _video_candidates(ctx: StageContext, key: str, out_dir: Path) -> tuple[list[Frame], dict[str, Any]]:
    from shared.splat.frames import probe_video, sample_video

    limits, sampling = _frame_limits(ctx)
    size = ctx.objects.size(key)
    if size > limits.max_bytes:
        raise InvalidRequest(f"the video is {size} bytes, over the limit of {limits.max_bytes}")
    local = ctx.workdir / f"input{Path(key).suffix.lower()[:8]}"
    ctx.objects.download(key, local)
    info = probe_video(local, limits)
    duration = f"{info['duration_s']:.1f} s" if info["duration_s"] else "unknown length"
    ctx.report(0.05, f"video {info['width']}x{info['height']} {info['codec']}, {duration}")
    candidates = sample_video(local, out_dir, info, limits, sampling, lambda f, m: ctx.report(0.05 + 0.75 * f, m))
    return candidates, {"video": key, **info}


def _image_candidates(ctx: StageContext, prefix: str, out_dir: Path) -> tuple[list[Frame], dict[str, Any]]:
    from shared.splat.frames import evenly, load_images

    limits, sampling = _frame_limits(ctx)
    keys = sorted((k for k in ctx.objects.list(prefix) if Path(k).suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
    if not keys:
        raise InvalidRequest(f"no {', '.join(IMAGE_SUFFIXES)} frames under {prefix!r}")
    chosen = [keys[i] for i in evenly(len(keys), sampling.max_candidates)]
    total = sum(ctx.objects.size(k) for k in chosen)
    if total > limits.max_bytes:
        raise InvalidRequest(f"the frames under {prefix!r} total {total} bytes, over the limit of {limits.max_bytes}")
    local_dir = ctx.workdir / "inputs"
    local_dir.mkdir()
    paths = []
    for number, key in enumerate(chosen):
        path = local_dir / f"{number:05d}{Path(key).suffix.lower()}"
        ctx.objects.download(key, path)
        paths.append((key, path))
        ctx.report(0.4 * (number + 1) / len(chosen), f"fetched {number + 1} of {len(chosen)} frames")
    return load_images(paths, out_dir, limits, sampling), {"frames_prefix": prefix, "images": len(keys)}


def extract_frames(ctx: StageContext) -> None:
    """Write ``frames/frame_0001.jpg…`` (sharp, evenly spaced, scaled) and ``frames.json`` from the input."""
    from shared.splat.frames import select_frames

    request = ctx.request
    candidates_dir = ctx.workdir / "candidates"
    candidates_dir.mkdir()
    if request.get("video"):
        candidates, source = _video_candidates(ctx, request["video"], candidates_dir)
    elif request.get("frames_prefix"):
        candidates, source = _image_candidates(ctx, request["frames_prefix"], candidates_dir)
    else:
        raise InvalidRequest("a splat job needs a video or a frames_prefix")
    _, sampling = _frame_limits(ctx)
    kept, dropped = select_frames(candidates, sampling)
    index = []
    for number, frame in enumerate(kept, 1):
        name = artifacts.frame_name(number)
        ctx.put_artifact(f"{artifacts.FRAMES_DIR}/{name}", frame.path, "image/jpeg")
        index.append(frame.as_dict(name))
        ctx.report(0.8 + 0.2 * number / len(kept), f"stored {number} of {len(kept)} frames")
    artifacts.put_json(ctx, artifacts.FRAMES_INDEX, {
        "source": source, "candidates": len(candidates), "dropped_blurry": dropped, "frames": index,
    })


def structure_from_motion(ctx: StageContext) -> None:
    """Run COLMAP on the frames; store the sparse model under ``sparse/0/`` and ``sfm.json``."""
    from shared.splat.sfm import SfmOptions, reconstruct

    image_dir = ctx.workdir / "images"
    names = artifacts.download_frames(ctx, image_dir)
    ctx.report(0.02, f"fetched {len(names)} frames")
    s = ctx.settings
    options = SfmOptions(s.splat_sfm_max_features, s.splat_sfm_overlap, s.splat_sfm_min_registered_fraction)
    result = reconstruct(image_dir, names, ctx.workdir, options, ctx.report)
    for path in sorted(result.model_dir.iterdir()):
        ctx.put_artifact(f"{artifacts.SPARSE_DIR}/{path.name}", path, "application/octet-stream")
    artifacts.put_json(ctx, artifacts.SFM_REPORT, result.as_dict())
    ctx.report(1.0, f"{len(result.registered)} of {len(names)} frames registered, {result.points} points")


def train_splats(ctx: StageContext) -> None:
    """Train with the job's ``train`` provider; store its PLY (once it passes the PLY checks), the held-out
    evaluation (scores, and one held-out frame beside its render) and ``training.json``.

    The evaluation runs here, once for every trainer, on the frames ``artifacts.heldout_frames`` kept out
    of training; a poor score does not fail the job, it is said in the report and the status message.
    """
    from shared.splat.ply import read_gaussians

    name = ctx.job["providers"]["train"]
    trainer = registry.create(SplatTrainer, name, ctx.provider_options("train"))
    started = time.monotonic()
    ply, facts = trainer.train(ctx)
    seconds = time.monotonic() - started
    gaussians = read_gaussians(ply, max_vertices=ctx.settings.splat_max_ply_vertices,
                               max_bytes=ctx.settings.splat_max_ply_bytes)
    splats = len(gaussians.means)
    ctx.put_artifact(artifacts.POINT_CLOUD, ply, "application/octet-stream")
    ctx.report(0.96, f"{splats} splats trained; scoring them on held-out frames")
    evaluation, reasons = _evaluate(ctx, gaussians, facts)
    report = {"trainer": name, "splats": splats, "seconds": round(seconds, 2), **facts, "evaluation": evaluation,
              "quality": "poor" if reasons else "ok", "quality_reasons": reasons}
    artifacts.put_json(ctx, artifacts.TRAINING_REPORT, report)
    held = evaluation["heldout_psnr"]
    score = f"held-out PSNR {held:.1f} dB" if held is not None else "no held-out score"
    ctx.report(1.0, f"poor result: {'; '.join(reasons)}" if reasons else f"{splats} splats, {score}")


def _evaluate(ctx: StageContext, gaussians: Gaussians, facts: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Score on the held-out frames, in the trainer's own scratch folders: what it fetched and undistorted
    there (the same model and frames) is not fetched or undistorted again."""
    from shared.splat.evaluate import evaluate, jpeg_bytes, verdict
    from shared.splat.gsplat_train import load_views

    model = artifacts.download_model(ctx, ctx.workdir / "sparse")
    sfm = ctx.read_json_artifact(artifacts.SFM_REPORT)
    heldout = artifacts.heldout_frames(ctx)
    artifacts.download_frames(ctx, ctx.workdir / "images", sfm["registered_frames"])
    views = load_views(model, ctx.workdir / "images", ctx.workdir)
    evaluation, shown = evaluate(gaussians, views, heldout, ctx.settings.splat_eval_max_side)
    if shown is not None:
        evaluation["shown_frame"] = shown.name
        evaluation["shown_camera"] = viewer_camera(next(view for view in views if view.name == shown.name))
        for key, image in ((artifacts.HELDOUT_FRAME, shown.frame), (artifacts.HELDOUT_RENDER, shown.render)):
            ctx.put_artifact(key, jpeg_bytes(image), "image/jpeg")
    return evaluation, verdict(evaluation, sfm, facts, ctx.settings.splat_min_heldout_psnr)


def viewer_camera(view: View) -> dict[str, Any]:
    """Where a viewer should open the splats: this training camera's centre, viewing direction, up vector
    and vertical field of view, in the splats' own (COLMAP, y-down) coordinates."""
    rotation = view.world_to_camera[:3, :3]
    return {"position": [round(float(v), 6) for v in view.center],
            "forward": [round(float(v), 6) for v in rotation.T @ [0.0, 0.0, 1.0]],  # OpenCV cameras look down +z
            "up": [round(float(v), 6) for v in rotation.T @ [0.0, -1.0, 0.0]],  # and their image y points down
            "fov_y_deg": round(math.degrees(2 * math.atan(view.height / (2 * float(view.intrinsics[1, 1])))), 3)}


def convert(ctx: StageContext) -> None:
    """Write ``scene.splat`` and ``scene.spz`` from the PLY, ``thumbnail.jpg`` from the render of a held-out
    view, and ``splat.json``."""
    from shared.splat.convert import ply_to_splat
    from shared.splat.frames import thumbnail_jpeg
    from shared.splat.spz import ply_to_spz

    ply = ctx.workdir / artifacts.POINT_CLOUD
    ctx.objects.download(job_key(ctx.job_id, artifacts.POINT_CLOUD), ply)
    limits = {"max_vertices": ctx.settings.splat_max_ply_vertices, "max_bytes": ctx.settings.splat_max_ply_bytes}
    out = ctx.workdir / artifacts.SCENE_SPLAT
    stats = ply_to_splat(ply, out, **limits)
    ctx.report(0.4, f"{stats['splats']} splats converted to .splat")
    info = ctx.put_artifact(artifacts.SCENE_SPLAT, out, "application/octet-stream")
    compressed = ctx.workdir / artifacts.SCENE_SPZ
    spz = ply_to_spz(ply, compressed, **limits)
    ctx.report(0.6, f"{stats['splats']} splats compressed to .spz")
    spz["bytes"] = ctx.put_artifact(artifacts.SCENE_SPZ, compressed, "application/octet-stream").bytes

    training = ctx.read_json_artifact(artifacts.TRAINING_REPORT)
    ctx.put_artifact(artifacts.THUMBNAIL, thumbnail_jpeg(ctx.read_artifact(artifacts.HELDOUT_RENDER)), "image/jpeg")
    evaluation = training["evaluation"]
    splat = {**stats, "bytes": info.bytes, "spz": spz, "thumbnail_view": evaluation["shown_frame"]}
    if "shown_camera" in evaluation:  # the viewer opens where the thumbnail was rendered from
        splat["view"] = evaluation["shown_camera"]
    artifacts.put_json(ctx, artifacts.SPLAT_REPORT, splat)
    frames = ctx.read_json_artifact(artifacts.FRAMES_INDEX)
    sfm = ctx.read_json_artifact(artifacts.SFM_REPORT)
    ctx.add_details(details_from_reports(frames, sfm, training, splat))
    ctx.report(1.0, f"scene.splat ready: {stats['splats']} splats")


def details_from_reports(frames: dict[str, Any], sfm: dict[str, Any], training: dict[str, Any],
                         splat: dict[str, Any]) -> dict[str, Any]:
    evaluation = training["evaluation"]
    return {
        "frames": len(frames["frames"]),
        "frames_registered": sfm["registered"],
        "sfm_points": sfm["points"],
        "mean_reprojection_error_px": sfm["mean_reprojection_error_px"],
        "trainer": training["trainer"],
        "splats": splat["splats"],
        "bounds": splat["bounds"],
        "training_steps": training["iterations"],
        "training_seconds": training["seconds"],
        **{key: evaluation[key] for key in ("heldout_psnr", "heldout_ssim", "train_psnr", "train_ssim",
                                            "heldout_frames")},
        # A verdict, not ``quality``: that name is the image jobs' report object in the same ``details``.
        "quality_verdict": training["quality"],
        "quality_reasons": training["quality_reasons"],
    }
