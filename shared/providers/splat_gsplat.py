"""3D Gaussian Splatting training on a CUDA GPU with gsplat (queue ``gpu_tasks``).

Starts from the same SfM-initialised Gaussians as ``points`` and optimises them against the
registered frames that are not held out for evaluation; iterations and densification come from
the ``SPLAT_GSPLAT_*`` settings, and a request may lower the iteration count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared import queues
from shared.models.runtime import GSPLAT_PACKAGES, require_cuda, require_packages
from shared.providers.base import SplatTrainer

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.pipeline.context import StageContext


class GsplatOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iterations: int | None = Field(None, ge=1, le=100_000, description="training steps (default: the setting)")


class GsplatSplatTrainer(SplatTrainer):
    name = "gsplat"
    version = "1"
    queue = queues.GPU
    Options = GsplatOptions

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        """On the GPU worker (the API has no torch and cannot see the workers' GPUs, so it never asks)."""
        require_packages("the gsplat provider", GSPLAT_PACKAGES)
        require_cuda("the gsplat provider")

    def train(self, ctx: StageContext) -> tuple[Path, dict[str, Any]]:
        from shared.splat import artifacts, gsplat_train
        from shared.splat.gaussians import from_points
        from shared.splat.ply import write_ply
        from shared.splat.sfm import load_points

        self.require_runtime(ctx.settings)
        model = artifacts.download_model(ctx, ctx.workdir / "sparse")
        image_dir = ctx.workdir / "images"
        artifacts.download_frames(ctx, image_dir)
        heldout = set(artifacts.heldout_frames(ctx))
        views = [view for view in gsplat_train.load_views(model, image_dir, ctx.workdir) if view.name not in heldout]
        initial = from_points(*load_points(model))
        config = gsplat_train.TrainConfig.from_settings(ctx.settings, self.options.iterations)
        ctx.report(0.05, f"training {len(initial)} Gaussians on {len(views)} views")
        trained = gsplat_train.train(views, initial, config, lambda f, m: ctx.report(0.05 + 0.9 * f, m))
        ply = ctx.workdir / "point_cloud.ply"
        write_ply(ply, trained)
        return ply, {"iterations": config.iterations, "initial_splats": len(initial), "training_views": len(views)}
