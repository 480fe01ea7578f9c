"""3D Gaussian Splatting training on the CPU (the ``cpu`` train provider), on ``cpu_raster``'s kernels.

The loop is 3DGS's: one random training view per step, L1 + 0.2 D-SSIM, Adam per parameter group
with the means' rate scaled by the scene's extent and decayed 100x, SH bands switched on one at a
time, and gsplat's default densification (clone small splats and split large ones whose screen-space
gradient is high, prune transparent ones) under a hard splat cap.

What differs is how a CPU budget is spent. Steps are scheduled on *progress*, the larger of the
step fraction and the fraction of the time budget used, so a run stopped by the clock still goes
through every phase. Resolution rises with progress (a quarter, a half, then full size): low
resolution steps are ~10x cheaper and place the splats, but detail at full size only comes from
full-size steps, so the last part of every run is at full resolution.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from shared.errors import ProviderError
from shared.splat import cpu_raster
from shared.splat.cpu_raster import Camera, Splats
from shared.splat.metrics import ssim
from shared.splat.ply import SH_REST_COEFFS, Gaussians

if TYPE_CHECKING:
    from shared.config import Settings

Progress = Callable[[float, str], None]
SCALES = (4, 2, 1)


@dataclass(frozen=True)
class CpuTrainConfig:
    iterations: int
    time_budget_s: float
    max_splats: int
    sh_degree: int = 1
    quarter_until: float = 0.25  # progress below which steps run at a quarter of the size
    half_until: float = 0.5  # ... and at half; full size after
    refine_every: int = 50
    refine_from: float = 0.04
    refine_until: float = 0.7
    grow_grad2d: float = 0.0002
    grow_scale3d: float = 0.01  # clone below this share of the scene's extent, split above
    prune_opacity: float = 0.005
    ssim_weight: float = 0.2
    means_lr: float = 1.6e-4  # times the scene's extent; decays 100x over the run
    scales_lr: float = 1e-2  # scales and opacities at twice 3DGS's rates: a CPU budget is a few hundred steps
    quats_lr: float = 1e-3
    opacities_lr: float = 1e-1
    sh0_lr: float = 2.5e-3
    shn_lr: float = 2.5e-3 / 20
    seed: int = 0

    @classmethod
    def from_settings(cls, settings: Settings, iterations: int | None = None,
                      time_budget_s: float | None = None) -> CpuTrainConfig:
        return cls(iterations=iterations or settings.splat_cpu_iterations,
                   time_budget_s=time_budget_s or settings.splat_cpu_time_budget_s,
                   max_splats=min(settings.splat_cpu_max_splats, settings.splat_max_ply_vertices),
                   sh_degree=settings.splat_cpu_sh_degree)

    def scale_at(self, progress: float) -> int:
        return 4 if progress < self.quarter_until else 2 if progress < self.half_until else 1


@dataclass
class TrainView:
    """A training view: its camera and its picture at every training scale (uint8, to bound memory)."""

    name: str
    cameras: dict[int, Camera]
    images: dict[int, np.ndarray]

    @classmethod
    def from_image(cls, name: str, camera: Camera, image: Image.Image, max_side: int) -> TrainView:
        image = image.convert("RGB")
        if image.size != (camera.width, camera.height):
            raise ProviderError(f"frame {name} is {image.size[0]}x{image.size[1]}, its camera "
                                f"{camera.width}x{camera.height}")
        ratio = min(1.0, max_side / max(image.size))
        full = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
        cameras, images = {}, {}
        for scale in SCALES:
            size = (max(1, full[0] // scale), max(1, full[1] // scale))
            cameras[scale] = camera.resized(*size)
            images[scale] = np.asarray(image.resize(size, Image.Resampling.BOX) if size != image.size else image)
        return cls(name, cameras, images)


@dataclass
class Adam:
    """Adam over the rows of one parameter array; rows can be gathered when splats are added or removed."""

    lr: float | np.ndarray  # an array broadcasts over the rows: one rate per column (SH bands)
    m: np.ndarray
    v: np.ndarray
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-15
    steps: int = 0

    @classmethod
    def like(cls, values: np.ndarray, lr: float | np.ndarray) -> Adam:
        return cls(lr, np.zeros_like(values), np.zeros_like(values))

    def step(self, values: np.ndarray, grad: np.ndarray) -> None:
        self.steps += 1
        self.m *= self.beta1
        self.m += (1 - self.beta1) * grad
        self.v *= self.beta2
        self.v += (1 - self.beta2) * grad * grad
        correction1 = 1 - self.beta1**self.steps
        correction2 = 1 - self.beta2**self.steps
        values -= (self.lr / correction1) * self.m / (np.sqrt(self.v / correction2) + self.eps)

    def gather(self, rows: np.ndarray) -> None:
        """Reorder the moments to the parameters' new rows (``rows`` index the old ones)."""
        self.m = self.m[rows]
        self.v = self.v[rows]


FIELDS = ("means", "log_scales", "quats", "opacity_logits", "sh")


@dataclass
class Trainer:
    splats: Splats
    config: CpuTrainConfig
    extent: float
    rng: np.random.Generator
    optimizers: dict[str, Adam] = field(default_factory=dict)
    grad2d: np.ndarray = field(default_factory=lambda: np.zeros(0))
    visible_count: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        c = self.config
        sh_rates = np.full((1, 16, 1), c.shn_lr, self.splats.sh.dtype)
        sh_rates[0, 0] = c.sh0_lr
        rates = {"means": c.means_lr * self.extent, "log_scales": c.scales_lr, "quats": c.quats_lr,
                 "opacity_logits": c.opacities_lr, "sh": sh_rates}
        self.optimizers = {name: Adam.like(getattr(self.splats, name), rate) for name, rate in rates.items()}
        self.reset_statistics()

    def reset_statistics(self) -> None:
        self.grad2d = np.zeros(len(self.splats))
        self.visible_count = np.zeros(len(self.splats))

    def apply(self, grads: cpu_raster.Gradients, progress: float) -> None:
        c = self.config
        self.optimizers["means"].lr = c.means_lr * self.extent * 0.01 ** min(1.0, progress)
        for name in FIELDS:
            self.optimizers[name].step(getattr(self.splats, name), getattr(grads, name))

    def accumulate(self, grads: cpu_raster.Gradients, camera: Camera) -> None:
        ndc = grads.mean2d * np.array([camera.width / 2, camera.height / 2])
        self.grad2d += np.where(grads.visible, np.linalg.norm(ndc, axis=1), 0.0)
        self.visible_count += grads.visible

    def refine(self) -> tuple[int, int, int]:
        """gsplat's default densification, capped: returns (cloned, split, pruned)."""
        c = self.config
        s = self.splats
        n = len(s)
        average = self.grad2d / np.maximum(self.visible_count, 1)
        high = average > c.grow_grad2d
        small = np.exp(s.log_scales).max(axis=1) <= c.grow_scale3d * self.extent
        candidates = np.flatnonzero(high)
        room = c.max_splats - n
        if len(candidates) > max(room, 0):
            candidates = candidates[np.argsort(-average[candidates])[:max(room, 0)]]
        clone = candidates[small[candidates]]
        split = candidates[~small[candidates]]
        opacity = 1 / (1 + np.exp(-s.opacity_logits))
        keep = np.ones(n, bool)
        keep[split] = False
        keep &= opacity >= c.prune_opacity
        pruned = int(n - len(split) - keep.sum())
        rows = np.concatenate([np.flatnonzero(keep), clone, split, split])
        values = {name: getattr(s, name)[rows].copy() for name in FIELDS}
        if len(split):
            # Each split splat becomes two, drawn from itself, each 1.6x narrower.
            first = int(keep.sum()) + len(clone)
            scales = np.exp(values["log_scales"][first:])
            quats = values["quats"][first:]
            rotations = _rotations(quats / np.linalg.norm(quats, axis=1, keepdims=True))
            offsets = np.einsum("nij,nj->ni", rotations, scales * self.rng.normal(size=scales.shape))
            values["means"][first:] += offsets.astype(values["means"].dtype)
            values["log_scales"][first:] -= math.log(1.6)
        for name in FIELDS:
            setattr(s, name, np.ascontiguousarray(values[name]))
            optimizer = self.optimizers[name]
            optimizer.gather(rows)
            optimizer.m[len(rows) - len(clone) - 2 * len(split):] = 0
            optimizer.v[len(rows) - len(clone) - 2 * len(split):] = 0
        self.reset_statistics()
        return len(clone), len(split), pruned


def _rotations(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
    ], axis=1)


def to_splats(gaussians: Gaussians, dtype: type = np.float32) -> Splats:
    """PLY-layout Gaussians as the rasterizer's arrays (SH rest is channel-major in the PLY)."""
    n = len(gaussians)
    sh = np.zeros((n, 16, 3), dtype)
    sh[:, 0] = gaussians.sh_dc
    sh[:, 1:] = np.asarray(gaussians.sh_rest).reshape(n, 3, SH_REST_COEFFS // 3).transpose(0, 2, 1)

    def array(values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(values, dtype)

    return Splats(array(gaussians.means), array(gaussians.log_scales), array(gaussians.quats),
                  array(gaussians.opacities), sh)


def to_gaussians(splats: Splats) -> Gaussians:
    n = len(splats)
    return Gaussians(means=splats.means.astype(np.float32), sh_dc=splats.sh[:, 0].astype(np.float32),
                     sh_rest=splats.sh[:, 1:].transpose(0, 2, 1).reshape(n, SH_REST_COEFFS).astype(np.float32),
                     opacities=splats.opacity_logits.astype(np.float32),
                     log_scales=splats.log_scales.astype(np.float32), quats=splats.quats.astype(np.float32))


def loss_and_gradient(image: np.ndarray, target: np.ndarray, ssim_weight: float) -> tuple[float, np.ndarray]:
    """(1 - w) L1 + w (1 - SSIM), and its gradient with respect to ``image``."""
    difference = image - target
    l1 = float(np.abs(difference).mean())
    similarity, d_ssim = ssim(image, target, gradient=True)
    assert d_ssim is not None
    grad = (1 - ssim_weight) / difference.size * np.sign(difference) - ssim_weight * d_ssim
    return (1 - ssim_weight) * l1 + ssim_weight * (1 - similarity), grad.astype(image.dtype)


def scene_extent(cameras: list[Camera]) -> float:
    """Radius of the camera centres around their mean, +10% (3DGS's scale for learning rates and splitting)."""
    centres = np.stack([camera.center for camera in cameras])
    return float(np.linalg.norm(centres - centres.mean(axis=0), axis=1).max() * 1.1) or 1.0


@dataclass
class TrainResult:
    gaussians: Gaussians
    facts: dict[str, Any]


def warm_up() -> float:
    """Compile every kernel of a training step (or load it from numba's cache) on a one-splat scene; returns
    the seconds it took. Run before the clock starts: a cold compile takes tens of seconds, which would
    otherwise come out of the time budget, and out of its low-resolution phase first."""
    started = time.perf_counter()
    one = np.ones((1, 1), np.float32)
    splats = Splats(means=np.array([[0.0, 0.0, 2.0]], np.float32), log_scales=np.full((1, 3), -1.0, np.float32),
                    quats=np.array([[1.0, 0.0, 0.0, 0.0]], np.float32), opacity_logits=one[0],
                    sh=np.zeros((1, 16, 3), np.float32))
    camera = Camera(np.eye(3), np.zeros(3), 16.0, 16.0, 8.0, 8.0, 16, 16)
    rendered = cpu_raster.render(splats, camera, 3)
    _, grad = loss_and_gradient(rendered.image, np.zeros_like(rendered.image), 0.2)
    cpu_raster.backward(splats, rendered, grad)
    return time.perf_counter() - started


def train(views: list[TrainView], initial: Gaussians, config: CpuTrainConfig, progress: Progress,
          clock: Callable[[], float] = time.monotonic) -> TrainResult:
    """Optimise ``initial`` against ``views``; ``progress`` is called every step and may raise to stop."""
    if not views:
        raise ProviderError("no training views: every registered frame was held out")
    compile_s = warm_up()
    rng = np.random.default_rng(config.seed)
    extent = scene_extent([view.cameras[1] for view in views])
    trainer = Trainer(to_splats(initial), config, extent, rng)
    start = clock()
    order: list[int] = []
    steps_at = dict.fromkeys(SCALES, 0)
    loss = math.nan
    step = 0
    stopped_by = "iterations"
    while True:
        fraction = max(step / config.iterations, (clock() - start) / config.time_budget_s)
        if fraction >= 1.0:
            stopped_by = "iterations" if step >= config.iterations else "time budget"
            break
        if not order:
            order = list(rng.permutation(len(views)))
        view = views[order.pop()]
        scale = config.scale_at(fraction)
        camera = view.cameras[scale]
        degree = min(config.sh_degree, int(fraction * (config.sh_degree + 1) / 0.6))
        rendered = cpu_raster.render(trainer.splats, camera, degree)
        target = view.images[scale].astype(np.float32) / 255.0
        loss, d_image = loss_and_gradient(rendered.image, target, config.ssim_weight)
        grads = cpu_raster.backward(trainer.splats, rendered, d_image)
        trainer.accumulate(grads, camera)
        trainer.apply(grads, fraction)
        step += 1
        steps_at[scale] += 1
        message = f"step {step}: loss {loss:.4f} at 1/{scale} size, {len(trainer.splats)} splats"
        if (config.refine_from <= fraction < config.refine_until and step % config.refine_every == 0
                and len(trainer.splats)):
            cloned, split, pruned = trainer.refine()
            message += f" (+{cloned} cloned, +{split} split, -{pruned} pruned)"
        if not math.isfinite(loss):
            raise ProviderError("CPU training diverged (the loss is not finite)")
        progress(fraction, message)
    facts = {"iterations": step, "stopped_by": stopped_by, "seconds_training": round(clock() - start, 2),
             "seconds_compiling": round(compile_s, 2),
             "steps_per_scale": {f"1/{s}": n for s, n in steps_at.items()}, "final_loss": round(loss, 5),
             "sh_degree": config.sh_degree, "max_splats": config.max_splats, "scene_extent": round(extent, 4)}
    return TrainResult(to_gaussians(trainer.splats), facts)
