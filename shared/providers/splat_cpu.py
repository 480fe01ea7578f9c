"""3D Gaussian Splatting trained on the CPU (queue ``cpu_tasks``): the default where no GPU is configured.

Same start as ``gsplat`` (SfM-initialised Gaussians, held-out frames left out) and the same image
formation, on the numba rasterizer of ``shared.splat.cpu_raster``; steps, wall-clock budget, splat
cap and image size come from the ``SPLAT_CPU_*`` settings, and a request may lower the first two.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared import queues
from shared.providers.base import SplatTrainer

if TYPE_CHECKING:
    from shared.pipeline.context import StageContext


class CpuOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # JSON parsers take NaN and Infinity

    iterations: int | None = Field(None, ge=1, le=100_000, description="training steps (default: the setting)")
    time_budget_s: float | None = Field(None, gt=0, description="seconds of training (default: the setting); "
                                        "never more than the setting")


class CpuSplatTrainer(SplatTrainer):
    name = "cpu"
    version = "1"
    queue = queues.CPU
    Options = CpuOptions

    def train(self, ctx: StageContext) -> tuple[Path, dict[str, Any]]:
        import numba
        from PIL import Image

        from shared.splat import artifacts, cpu_train
        from shared.splat.evaluate import view_camera
        from shared.splat.gaussians import from_points
        from shared.splat.gsplat_train import load_views
        from shared.splat.ply import write_ply
        from shared.splat.sfm import load_points

        s = ctx.settings
        if s.splat_cpu_threads:
            numba.set_num_threads(min(s.splat_cpu_threads, numba.config.NUMBA_NUM_THREADS))
        model = artifacts.download_model(ctx, ctx.workdir / "sparse")
        image_dir = ctx.workdir / "images"
        artifacts.download_frames(ctx, image_dir)
        heldout = set(artifacts.heldout_frames(ctx))
        views = []
        for view in load_views(model, image_dir, ctx.workdir):
            if view.name not in heldout:
                with Image.open(view.image_path) as image:
                    views.append(cpu_train.TrainView.from_image(view.name, view_camera(view), image,
                                                                s.splat_cpu_max_side))
        initial = from_points(*load_points(model))
        budget = min(self.options.time_budget_s or s.splat_cpu_time_budget_s, s.splat_cpu_time_budget_s)
        config = cpu_train.CpuTrainConfig.from_settings(s, self.options.iterations, budget)
        ctx.report(0.05, f"training {len(initial)} Gaussians on {len(views)} views ({len(heldout)} held out)")
        result = cpu_train.train(views, initial, config, lambda f, m: ctx.report(0.05 + 0.9 * f, m))
        ply = ctx.workdir / "point_cloud.ply"
        write_ply(ply, result.gaussians)
        return ply, {**result.facts, "initial_splats": len(initial), "training_views": len(views)}
