"""3D Gaussian Splatting training with gsplat's CUDA rasterizer (the ``gsplat`` train provider).

The loop follows the 3DGS paper as gsplat's own trainer does: random view per step, L1 + D-SSIM
loss, SH bands switched on one at a time, Adam per parameter group, and gsplat's
``DefaultStrategy`` to clone, split, prune and reset opacities. Everything before the first
rasterization (cameras, undistortion, parameters, config) runs on the CPU and is tested there;
torch and gsplat are imported only inside the functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pycolmap
from PIL import Image

from shared.errors import ProviderError
from shared.splat.ply import SH_REST_COEFFS, Gaussians

if TYPE_CHECKING:
    import torch

    from shared.config import Settings

PINHOLE_MODELS = ("PINHOLE", "SIMPLE_PINHOLE")
SH_DEGREE = 3  # the INRIA PLY carries 45 f_rest values: degree 3
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TrainConfig:
    iterations: int
    refine_start: int
    refine_stop: int
    refine_every: int
    reset_every: int
    grow_grad2d: float
    max_splats: int
    sh_degree_every: int = 1000
    ssim_weight: float = 0.2
    means_lr: float = 1.6e-4  # times the scene scale; decays 100x over the run
    scales_lr: float = 5e-3
    quats_lr: float = 1e-3
    opacities_lr: float = 5e-2
    sh0_lr: float = 2.5e-3
    shn_lr: float = 2.5e-3 / 20
    seed: int = 0

    @classmethod
    def from_settings(cls, settings: Settings, iterations: int | None = None) -> TrainConfig:
        return cls(iterations=iterations or settings.splat_gsplat_iterations,
                   refine_start=settings.splat_gsplat_refine_start, refine_stop=settings.splat_gsplat_refine_stop,
                   refine_every=settings.splat_gsplat_refine_every, reset_every=settings.splat_gsplat_reset_every,
                   grow_grad2d=settings.splat_gsplat_grow_grad2d, max_splats=settings.splat_max_ply_vertices)


@dataclass(frozen=True)
class View:
    """One registered frame as the rasterizer wants it: pinhole intrinsics and a world-to-camera matrix."""

    name: str
    image_path: Path
    intrinsics: np.ndarray  # (3, 3)
    world_to_camera: np.ndarray  # (4, 4)
    width: int
    height: int

    @property
    def center(self) -> np.ndarray:
        rotation, translation = self.world_to_camera[:3, :3], self.world_to_camera[:3, 3]
        return -rotation.T @ translation


def load_views(model_dir: Path, image_dir: Path, work_dir: Path) -> list[View]:
    """The registered views of a COLMAP model, undistorted first when its camera model has distortion (once per
    ``work_dir``: the stage's evaluation reads the views its trainer already undistorted there)."""
    model = pycolmap.Reconstruction(str(model_dir))
    if any(camera.model.name not in PINHOLE_MODELS for camera in model.cameras.values()):
        undistorted = work_dir / "undistorted"
        if not (undistorted / "sparse").is_dir():
            pycolmap.undistort_images(str(undistorted), str(model_dir), str(image_dir))
        model, image_dir = pycolmap.Reconstruction(str(undistorted / "sparse")), undistorted / "images"
    views = []
    for image_id in sorted(model.reg_image_ids()):
        image = model.image(image_id)
        camera = model.camera(image.camera_id)
        world_to_camera = np.eye(4)
        world_to_camera[:3] = image.cam_from_world().matrix()
        views.append(View(image.name, image_dir / image.name, np.asarray(camera.calibration_matrix()),
                          world_to_camera, camera.width, camera.height))
    return sorted(views, key=lambda view: view.name)


def scene_scale(views: list[View]) -> float:
    """Radius of the camera positions around their mean, +10% (3DGS's scale for learning rates and pruning)."""
    centers = np.stack([view.center for view in views])
    return float(np.linalg.norm(centers - centers.mean(axis=0), axis=1).max() * 1.1) or 1.0


def to_parameters(gaussians: Gaussians, device: str) -> torch.nn.ParameterDict:
    """Trainable tensors in gsplat's naming; SH as DC (N, 1, 3) and rest (N, 15, 3)."""
    import torch

    n = len(gaussians)
    rest = gaussians.sh_rest.reshape(n, 3, SH_REST_COEFFS // 3).transpose(0, 2, 1)
    arrays = {"means": gaussians.means, "scales": gaussians.log_scales, "quats": gaussians.quats,
              "opacities": gaussians.opacities, "sh0": gaussians.sh_dc[:, None, :], "shN": rest}
    return torch.nn.ParameterDict({
        key: torch.nn.Parameter(torch.tensor(np.ascontiguousarray(value), dtype=torch.float32, device=device))
        for key, value in arrays.items()
    })


def to_gaussians(parameters: torch.nn.ParameterDict) -> Gaussians:
    """The trained tensors back in the PLY's layout (f_rest channel-major, as INRIA writes it)."""
    def array(key: str) -> np.ndarray:
        return parameters[key].detach().cpu().numpy()

    n = len(parameters["means"])
    return Gaussians(means=array("means"), sh_dc=array("sh0").reshape(n, 3),
                     sh_rest=array("shN").transpose(0, 2, 1).reshape(n, SH_REST_COEFFS),
                     opacities=array("opacities"), log_scales=array("scales"), quats=array("quats"))


def ssim(image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of two (H, W, 3) images in 0..1 with the usual 11-pixel Gaussian window."""
    import torch
    import torch.nn.functional as F

    coords = torch.arange(11, dtype=image.dtype, device=image.device) - 5
    kernel_1d = torch.exp(-(coords**2) / (2 * 1.5**2))
    kernel_1d = kernel_1d / kernel_1d.sum()
    window = (kernel_1d[:, None] * kernel_1d[None, :]).expand(3, 1, 11, 11).contiguous()
    x, y = image.permute(2, 0, 1)[None], target.permute(2, 0, 1)[None]

    def blur(z: torch.Tensor) -> torch.Tensor:
        return F.conv2d(z, window, padding=5, groups=3)

    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y, cov = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2, blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return value.mean()


def _image(path: Path, device: str) -> torch.Tensor:
    import torch

    with Image.open(path) as image:
        return torch.from_numpy(np.array(image.convert("RGB"))).to(device)


def _optimizers(parameters: torch.nn.ParameterDict, config: TrainConfig, scale: float) -> dict[str, Any]:
    import torch

    rates = {"means": config.means_lr * scale, "scales": config.scales_lr, "quats": config.quats_lr,
             "opacities": config.opacities_lr, "sh0": config.sh0_lr, "shN": config.shn_lr}
    return {key: torch.optim.Adam([{"params": parameters[key], "lr": rate, "name": key}], eps=1e-15)
            for key, rate in rates.items()}


def train(views: list[View], initial: Gaussians, config: TrainConfig, progress: Progress,
          device: str = "cuda") -> Gaussians:
    """Optimise ``initial`` against the views; ``progress`` may raise to stop (cancellation)."""
    import torch
    from gsplat import DefaultStrategy, rasterization

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    scale = scene_scale(views)
    parameters = to_parameters(initial, device)
    optimizers = _optimizers(parameters, config, scale)
    means_decay = torch.optim.lr_scheduler.ExponentialLR(optimizers["means"], gamma=0.01 ** (1 / config.iterations))
    strategy = DefaultStrategy(refine_start_iter=config.refine_start, refine_stop_iter=config.refine_stop,
                               refine_every=config.refine_every, reset_every=config.reset_every,
                               grow_grad2d=config.grow_grad2d)
    strategy.check_sanity(parameters, optimizers)
    state = strategy.initialize_state(scene_scale=scale)
    images = [_image(view.image_path, device) for view in views]
    intrinsics = torch.tensor(np.stack([v.intrinsics for v in views]), dtype=torch.float32, device=device)
    world_to_camera = torch.tensor(np.stack([v.world_to_camera for v in views]), dtype=torch.float32, device=device)
    report_every = max(1, config.iterations // 100)
    for step in range(config.iterations):
        i = int(rng.integers(len(views)))
        colours = torch.cat([parameters["sh0"], parameters["shN"]], dim=1)
        rendered, _, info = rasterization(
            means=parameters["means"], quats=parameters["quats"], scales=torch.exp(parameters["scales"]),
            opacities=torch.sigmoid(parameters["opacities"]), colors=colours,
            viewmats=world_to_camera[i:i + 1], Ks=intrinsics[i:i + 1], width=views[i].width, height=views[i].height,
            sh_degree=min(step // config.sh_degree_every, SH_DEGREE), packed=False,
        )
        target = images[i].float() / 255.0
        image = rendered[0].clamp(0.0, 1.0)
        strategy.step_pre_backward(parameters, optimizers, state, step, info)
        loss = (1 - config.ssim_weight) * (image - target).abs().mean() + config.ssim_weight * (1 - ssim(image, target))
        loss.backward()
        for optimizer in optimizers.values():
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        means_decay.step()
        strategy.step_post_backward(parameters, optimizers, state, step, info, packed=False)
        if 2 * len(parameters["means"]) > config.max_splats:
            # A refinement can at most double the count: stop growing before the PLY limit is passed.
            strategy.refine_stop_iter = min(strategy.refine_stop_iter, step)
        if step % report_every == 0 or step == config.iterations - 1:
            progress((step + 1) / config.iterations, f"step {step + 1} of {config.iterations}: loss "
                     f"{loss.item():.4f}, {len(parameters['means'])} splats")
    if not math.isfinite(loss.item()):
        raise ProviderError("gsplat training diverged (the loss is not finite)")
    return to_gaussians(parameters)
