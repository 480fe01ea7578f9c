"""The CPU trainer on a tiny scene rendered here, its budget and cancellation, and the SSIM it trains on."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import correlate1d

from shared.errors import JobCanceled
from shared.splat import sample_video
from shared.splat.cpu_raster import Camera, render
from shared.splat.cpu_train import CpuTrainConfig, Trainer, TrainView, to_splats, train
from shared.splat.gaussians import from_points
from shared.splat.metrics import WINDOW, psnr, ssim
from shared.splat.ply import Gaussians

WIDTH, HEIGHT, FOCAL, VIEWS = 64, 48, 54.0, 16


def plain_ssim(x: np.ndarray, y: np.ndarray) -> float:
    def blur(z: np.ndarray) -> np.ndarray:
        return correlate1d(correlate1d(z, WINDOW, axis=0, mode="constant"), WINDOW, axis=1, mode="constant")

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    return float((((2 * mx * my + 1e-4) * (2 * cov + 9e-4)) / ((mx**2 + my**2 + 1e-4) * (vx + vy + 9e-4))).mean())


def test_ssim_matches_a_plain_version_and_its_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 10, 3)), rng.random((12, 10, 3))
    value, grad = ssim(x, y, gradient=True)
    assert value == pytest.approx(plain_ssim(x, y), abs=1e-12)
    assert ssim(y, y)[0] == pytest.approx(1.0)
    numeric = np.zeros_like(x)
    for index in itertools.product(*map(range, x.shape)):
        plus, minus = x.copy(), x.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        numeric[index] = (plain_ssim(plus, y) - plain_ssim(minus, y)) / 2e-6
    np.testing.assert_allclose(grad, numeric, atol=1e-6 * np.abs(numeric).max() * 100)


def build_scene(textures: list[np.ndarray]) -> tuple[list[TrainView], list, Gaussians]:
    """The sample room and box at 64x48 from 16 orbit positions; every 8th view held out; SfM-like noisy points."""
    rng = np.random.default_rng(7)
    train_views, held, points, colours = [], [], [], []
    for i in range(VIEWS):
        eye = sample_video.orbit_eye(i, VIEWS)
        hits, colour = sample_video.cast(eye, sample_video.ORBIT_TARGET, textures, FOCAL, WIDTH, HEIGHT)
        camera = Camera(*sample_video.look_at(eye, sample_video.ORBIT_TARGET), FOCAL, FOCAL, WIDTH / 2, HEIGHT / 2,
                        WIDTH, HEIGHT)
        image = colour.reshape(HEIGHT, WIDTH, 3)
        if i % 8 == 0:
            held.append((camera, image))
        else:
            train_views.append(TrainView.from_image(f"view_{i}", camera, Image.fromarray(
                (image * 255 + 0.5).astype(np.uint8)), max_side=WIDTH))
            pick = rng.choice(len(hits), 50, replace=False)
            points.append(hits[pick] + rng.normal(0, 0.02, (50, 3)))
            colours.append(colour[pick])
    initial = from_points(np.concatenate(points), (np.concatenate(colours) * 255).astype(np.uint8))
    return train_views, held, initial


@pytest.fixture(scope="module")
def tiny_scene() -> tuple[list[TrainView], list, Gaussians]:
    return build_scene(sample_video.photo_textures(128))


def heldout_psnr(gaussians, held) -> float:
    splats = to_splats(gaussians)
    return float(np.mean([psnr(render(splats, camera, 3).image, image) for camera, image in held]))


def test_tiny_scene_trains_well_past_the_untrained_preview(tiny_scene):
    views, held, initial = tiny_scene
    preview = from_points(initial.means, ((initial.sh_dc * 0.28209479177387814 + 0.5) * 255).astype(np.uint8), 0.6)
    seen: list[str] = []
    result = train(views, initial, CpuTrainConfig(iterations=300, time_budget_s=1e9, max_splats=4000),
                   lambda fraction, message: seen.append(message))
    before, after = heldout_psnr(preview, held), heldout_psnr(result.gaussians, held)
    assert len(seen) == result.facts["iterations"] == 300  # progress every step
    assert result.facts["stopped_by"] == "iterations"
    assert len(initial) < len(result.gaussians) <= 4000
    assert after >= 20.0 and after >= before + 3.5, (before, after)


def test_the_time_budget_stops_training_and_still_ends_at_full_size(tiny_scene):
    views, _, initial = tiny_scene
    ticks = itertools.count()
    config = CpuTrainConfig(iterations=100_000, time_budget_s=40, max_splats=2000)
    result = train(views, initial, config, lambda f, m: None, clock=lambda: float(next(ticks)))
    steps = result.facts["steps_per_scale"]
    assert result.facts["stopped_by"] == "time budget" and result.facts["iterations"] < 40
    assert steps["1/4"] > 0 and steps["1/2"] > 0 and steps["1/1"] > 0


def test_a_raising_progress_callback_stops_training_at_that_step(tiny_scene):
    views, _, initial = tiny_scene
    calls = []

    def progress(fraction: float, message: str) -> None:
        calls.append(message)
        if len(calls) == 3:
            raise JobCanceled("canceled")

    with pytest.raises(JobCanceled):
        train(views, initial, CpuTrainConfig(iterations=50, time_budget_s=1e9, max_splats=2000), progress)
    assert len(calls) == 3


def test_densification_never_passes_the_splat_cap(tiny_scene):
    initial = tiny_scene[2]
    cap = len(initial) + 25
    trainer = Trainer(to_splats(initial), CpuTrainConfig(iterations=1, time_budget_s=1, max_splats=cap), 2.0,
                      np.random.default_rng(0))
    trainer.grad2d[:] = 1.0  # every splat asks to grow
    trainer.visible_count[:] = 1
    cloned, split, pruned = trainer.refine()
    assert cloned + split == 25 and len(trainer.splats) == cap - pruned
    assert all(len(o.m) == len(trainer.splats) for o in trainer.optimizers.values())
