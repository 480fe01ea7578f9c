"""Held-out evaluation of a trained splat scene, the same for every trainer.

Every ``holdout_every``-th registered frame is kept out of training (``artifacts.heldout_names``);
after training, the stage renders the PLY from those cameras with the CPU rasterizer and scores
the renders against the real frames, and does the same for a few training frames. A scene that
only reproduces the frames it was fitted to scores well on training frames and badly on held-out
ones; that gap, the registered frame and point counts and the training budget are what the quality
verdict names when the held-out PSNR is under the floor.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from shared.splat.cpu_raster import Camera, render
from shared.splat.cpu_train import to_splats
from shared.splat.metrics import psnr, ssim

if TYPE_CHECKING:
    from shared.splat.gsplat_train import View
    from shared.splat.ply import Gaussians

FEW_FRAMES = 16
FEW_POINTS = 300
FEW_STEPS = 300
OVERFIT_DB = 5.0


def view_camera(view: View) -> Camera:
    k, w2c = view.intrinsics, view.world_to_camera
    return Camera(w2c[:3, :3], w2c[:3, 3], float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]),
                  view.width, view.height)


def _load(view: View, max_side: int) -> tuple[Camera, np.ndarray]:
    camera = view_camera(view)
    with Image.open(view.image_path) as opened:
        image = opened.convert("RGB")
    ratio = min(1.0, max_side / max(image.size))
    if ratio < 1.0:
        size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
        image = image.resize(size, Image.Resampling.BOX)
        camera = camera.resized(*size)
    return camera, np.asarray(image, np.float32) / 255.0


@dataclass
class Scored:
    name: str
    psnr: float
    ssim: float
    frame: np.ndarray
    render: np.ndarray


def score(gaussians: Gaussians, views: list[View], max_side: int) -> list[Scored]:
    """Render ``gaussians`` from each view (SH degree 3: unused bands are zero) and score it against the frame."""
    splats = to_splats(gaussians)
    scored = []
    for view in views:
        camera, frame = _load(view, max_side)
        image = np.clip(render(splats, camera, 3).image, 0.0, 1.0)
        scored.append(Scored(view.name, psnr(image, frame), ssim(image, frame)[0], frame, image))
    return scored


def jpeg_bytes(image: np.ndarray) -> bytes:
    """An (H, W, 3) image in 0..1 as a JPEG, for the held-out frame and its render."""
    out = io.BytesIO()
    Image.fromarray((np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)).save(out, "JPEG", quality=92)
    return out.getvalue()


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if values else None


def evaluate(gaussians: Gaussians, views: list[View], heldout: list[str], max_side: int,
             train_samples: int = 6) -> tuple[dict[str, Any], Scored | None]:
    """Scores on the held-out views and on up to ``train_samples`` training views, evenly spread; and the
    held-out view with the median PSNR (the one to show: neither the best nor the worst)."""
    held = [view for view in views if view.name in heldout]
    training = [view for view in views if view.name not in heldout]
    picks = np.linspace(0, len(training) - 1, min(train_samples, len(training))).round().astype(int)
    held_scores = score(gaussians, held, max_side)
    train_scores = score(gaussians, [training[i] for i in sorted(set(picks))], max_side) if training else []
    report = {
        "heldout_psnr": _mean([s.psnr for s in held_scores]), "heldout_ssim": _mean([s.ssim for s in held_scores]),
        "train_psnr": _mean([s.psnr for s in train_scores]), "train_ssim": _mean([s.ssim for s in train_scores]),
        "heldout_frames": [s.name for s in held_scores], "train_frames_scored": [s.name for s in train_scores],
        "per_frame": [{"name": s.name, "heldout": is_heldout, "psnr": round(s.psnr, 3), "ssim": round(s.ssim, 4)}
                      for is_heldout, group in ((True, held_scores), (False, train_scores)) for s in group],
    }
    shown = sorted(held_scores, key=lambda s: s.psnr)[len(held_scores) // 2] if held_scores else None
    return report, shown


def verdict(evaluation: dict[str, Any], sfm: dict[str, Any], training: dict[str, Any], floor: float) -> list[str]:
    """Why a result is poor (empty when its held-out PSNR reaches ``floor``): the likely causes first."""
    held = evaluation.get("heldout_psnr")
    if held is not None and held >= floor:
        return []
    reasons = []
    if held is None:
        reasons.append("no frame could be held out to measure it (too few registered frames)")
    else:
        reasons.append(f"held-out PSNR {held:.1f} dB is under the {floor:.1f} dB floor")
    if sfm.get("registered", 0) < FEW_FRAMES:
        reasons.append(f"only {sfm.get('registered', 0)} frames registered (too few frames: film more of the scene)")
    if sfm.get("points", 0) < FEW_POINTS:
        reasons.append(f"only {sfm.get('points', 0)} SfM points (too little texture or overlap between frames)")
    train = evaluation.get("train_psnr")
    if held is not None and train is not None and train - held > OVERFIT_DB:
        reasons.append(f"training frames score {train - held:.1f} dB higher than held-out ones (too little "
                       "overlap between frames: views between them are guessed)")
    if training.get("iterations", 0) < FEW_STEPS:
        reasons.append(f"{training.get('iterations', 0)} training steps (too short a budget, or an untrained preview)")
    elif training.get("stopped_by") == "time budget":
        reasons.append("training stopped at its time budget (a longer budget may help)")
    return reasons
