"""Splats without training, on the CPU: one Gaussian per SfM point, initialised as 3DGS does.

A preview-quality scene in seconds (the trained default is ``cpu``). 3DGS starts its
splats at opacity 0.1 because training then raises the ones that matter; nothing trains these, and
at 0.1 the scene looks like fog. They start at 0.6 instead (``initial_opacity`` sets it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared import queues
from shared.providers.base import SplatTrainer

if TYPE_CHECKING:
    from shared.pipeline.context import StageContext


class PointsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    initial_opacity: float = Field(0.6, gt=0.0, lt=1.0, description="opacity of every splat, 0..1 exclusive")


class PointsSplatTrainer(SplatTrainer):
    name = "points"
    version = "2"
    queue = queues.CPU
    Options = PointsOptions

    def train(self, ctx: StageContext) -> tuple[Path, dict[str, Any]]:
        from shared.splat import artifacts
        from shared.splat.gaussians import from_points
        from shared.splat.ply import write_ply
        from shared.splat.sfm import load_points

        model = artifacts.download_model(ctx, ctx.workdir / "sparse")
        xyz, rgb = load_points(model)
        ctx.report(0.3, f"{len(xyz)} SfM points loaded")
        gaussians = from_points(xyz, rgb, self.options.initial_opacity)
        ply = ctx.workdir / "point_cloud.ply"
        write_ply(ply, gaussians)
        ctx.report(0.9, f"{len(gaussians)} splats initialised from SfM points")
        return ply, {"iterations": 0, "sfm_points": len(xyz), "initial_opacity": self.options.initial_opacity}
