"""The gsplat trainer on a machine without a GPU: everything but gsplat's CUDA kernels.

Parameters, config and SSIM run on torch's CPU build. The training loop runs against a stand-in
``gsplat`` module (a small differentiable splatting renderer in torch, and a strategy that checks
it is driven like gsplat's DefaultStrategy), so the loop's plumbing is exercised here; the real
rasterizer only runs where CUDA is (``test_gsplat_trains_from_the_sfm_model``).
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.config import Settings
from shared.errors import ProviderUnavailable
from shared.providers.registry import provider_class
from shared.splat.convert import SH_C0
from tests.test_sdxl_triposr import cuda_available

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_parameters_round_trip_in_gsplat_layout(tmp_path):
    from shared.splat import gsplat_train
    from shared.splat.gaussians import from_points
    from shared.splat.ply import write_ply

    rng = np.random.default_rng(0)
    gaussians = from_points(rng.normal(size=(50, 3)), rng.integers(0, 256, (50, 3)).astype(np.uint8))
    gaussians.sh_rest[:] = rng.normal(size=gaussians.sh_rest.shape)
    parameters = gsplat_train.to_parameters(gaussians, "cpu")
    assert parameters["sh0"].shape == (50, 1, 3) and parameters["shN"].shape == (50, 15, 3)
    assert torch.equal(parameters["shN"][:, :, 1], torch.from_numpy(gaussians.sh_rest[:, 15:30]))  # green band
    back = gsplat_train.to_gaussians(parameters)
    for name in ("means", "sh_dc", "sh_rest", "opacities", "log_scales", "quats"):
        np.testing.assert_array_equal(getattr(back, name), getattr(gaussians, name))
    assert write_ply(tmp_path / "a.ply", back) == write_ply(tmp_path / "b.ply", gaussians)


def test_ssim_and_config():
    from shared.splat import gsplat_train

    image = torch.rand(32, 32, 3)
    assert gsplat_train.ssim(image, image).item() == pytest.approx(1.0, abs=1e-5)
    assert gsplat_train.ssim(image, torch.rand(32, 32, 3)).item() < 0.2
    config = gsplat_train.TrainConfig.from_settings(Settings(splat_gsplat_iterations=1234), iterations=None)
    assert (config.iterations, config.refine_start, config.max_splats) == (1234, 500, 8_000_000)
    assert gsplat_train.TrainConfig.from_settings(Settings(), iterations=30).iterations == 30


@pytest.mark.skipif(cuda_available(), reason="this machine has a CUDA GPU")
def test_gsplat_says_it_needs_a_gpu_here():
    with pytest.raises(ProviderUnavailable, match="gsplat"):
        provider_class("train", "gsplat").check_runtime(Settings())


def soft_rasterization(means, quats, scales, opacities, colors, viewmats, Ks, width, height, sh_degree=None,
                       packed=True):
    """gsplat's signature and outputs, rendered as opacity-weighted Gaussian blobs (DC colour only)."""
    n = len(means)
    assert quats.shape == (n, 4) and scales.shape == (n, 3) and opacities.shape == (n,)
    assert colors.shape == (n, 16, 3) and (sh_degree + 1) ** 2 <= 16 and not packed
    assert viewmats.shape == (1, 4, 4) and Ks.shape == (1, 3, 3)
    camera = means @ viewmats[0, :3, :3].T + viewmats[0, :3, 3]
    projected = camera @ Ks[0].T
    batched_means2d = (projected[:, :2] / projected[:, 2:])[None]  # the tensor returned is the one rendered
    means2d = batched_means2d[0]
    sigma = scales.max(dim=1).values * Ks[0, 0, 0] / camera[:, 2] + 0.5
    ys, xs = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing="ij")
    pixels = torch.stack([xs, ys], dim=-1).reshape(-1, 1, 2)
    weights = opacities * torch.exp(-((pixels - means2d) ** 2).sum(-1) / (2 * sigma**2))
    rgb = 0.5 + SH_C0 * colors[:, 0, :]
    image = (weights @ rgb) / (weights.sum(-1, keepdim=True) + 1e-6)
    info = {"means2d": batched_means2d, "radii": (3 * sigma)[None], "width": width, "height": height,
            "n_cameras": 1, "gaussian_ids": None}
    return image.reshape(1, height, width, 3), weights.sum(-1).reshape(1, height, width, 1), info


@dataclass
class RecordingStrategy:
    """Checks the call protocol of gsplat's DefaultStrategy (pre-backward, then post-backward with gradients)."""

    refine_start_iter: int = 500
    refine_stop_iter: int = 15_000
    refine_every: int = 100
    reset_every: int = 3000
    grow_grad2d: float = 0.0002
    steps: list[int] = field(default_factory=list)

    def check_sanity(self, params, optimizers) -> None:
        assert set(params) == set(optimizers) >= {"means", "scales", "quats", "opacities"}

    def initialize_state(self, scene_scale: float = 1.0) -> dict:
        assert scene_scale > 0
        return {"scene_scale": scene_scale}

    def step_pre_backward(self, params, optimizers, state, step, info) -> None:
        info["means2d"].retain_grad()

    def step_post_backward(self, params, optimizers, state, step, info, packed=False) -> None:
        assert info["means2d"].grad is not None and not packed
        self.steps.append(step)


@pytest.fixture
def strategies(monkeypatch) -> list[RecordingStrategy]:
    """gsplat as the training loop sees it, with the CPU stand-in rasteriser; the strategies it made."""
    made: list[RecordingStrategy] = []
    fake = types.ModuleType("gsplat")
    fake.rasterization = soft_rasterization
    fake.DefaultStrategy = lambda **kwargs: made.append(RecordingStrategy(**kwargs)) or made[-1]
    monkeypatch.setitem(sys.modules, "gsplat", fake)
    return made


def test_training_loop_drives_rasterizer_strategy_and_optimizers(tmp_path, strategies):
    from shared.splat import gsplat_train
    from shared.splat.gaussians import from_points


    rng = np.random.default_rng(1)
    points = rng.uniform(-0.5, 0.5, size=(40, 3))
    views = []
    for i, angle in enumerate((-0.3, 0.0, 0.3)):
        rotation = np.array([[np.cos(angle), 0, -np.sin(angle)], [0, 1, 0], [np.sin(angle), 0, np.cos(angle)]])
        world_to_camera = np.eye(4)
        world_to_camera[:3, :3], world_to_camera[:3, 3] = rotation, (0, 0, 3)
        path = Path(tmp_path / f"view_{i}.png")
        Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(path)
        views.append(gsplat_train.View(path.name, path, np.array([[30.0, 0, 16], [0, 30, 12], [0, 0, 1]]),
                                       world_to_camera, 32, 24))
    initial = from_points(points, rng.integers(0, 256, (40, 3)).astype(np.uint8))
    config = gsplat_train.TrainConfig(iterations=30, refine_start=5, refine_stop=20, refine_every=5, reset_every=10,
                                      grow_grad2d=0.001, max_splats=1000, sh_degree_every=10)
    reports: list[tuple[float, str]] = []

    trained = gsplat_train.train(views, initial, config, lambda f, m: reports.append((f, m)), device="cpu")

    assert strategies[0].steps == list(range(30)) and strategies[0].refine_every == 5
    assert len(trained) == 40 and not np.array_equal(trained.means, initial.means)
    assert not np.array_equal(trained.sh_dc, initial.sh_dc)
    assert reports[-1][0] == 1.0 and "step 30 of 30" in reports[-1][1]
    first_loss, last_loss = (float(m.split("loss ")[1].split(",")[0]) for _, m in (reports[0], reports[-1]))
    assert last_loss < first_loss


def test_growth_stops_before_the_splat_limit(tmp_path, strategies):
    """A refinement can double the count, so refining stops once half the PLY limit is reached."""
    from shared.splat import gsplat_train
    from shared.splat.gaussians import from_points

    rng = np.random.default_rng(2)
    path = tmp_path / "view.png"
    Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(path)
    world_to_camera = np.eye(4)
    world_to_camera[2, 3] = 3
    view = gsplat_train.View("view.png", path, np.array([[30.0, 0, 16], [0, 30, 12], [0, 0, 1]]), world_to_camera,
                             32, 24)
    initial = from_points(rng.uniform(-0.5, 0.5, size=(40, 3)), rng.integers(0, 256, (40, 3)).astype(np.uint8))
    config = gsplat_train.TrainConfig(iterations=3, refine_start=0, refine_stop=1000, refine_every=1, reset_every=100,
                                      grow_grad2d=0.001, max_splats=79)
    gsplat_train.train([view], initial, config, lambda f, m: None, device="cpu")
    assert strategies[0].refine_stop_iter == 0
