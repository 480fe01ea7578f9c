"""The default reconstructor, CPU only: a relief from one view, the visual hull of several (``shared.assets.relief``).

Several views need their azimuths: generated views carry them; for uploaded photos they are the
``azimuths`` option (degrees, one per image, in order; see ``shared.assets.views`` for the
convention), else the photos are taken to be evenly spaced around the object, starting at the front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import InvalidRequest, ProviderError
from shared.providers.base import Reconstructor

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.pipeline.context import StageContext


class ReliefOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    azimuths: list[float] | None = Field(None, min_length=1, max_length=8,
                                         description="azimuth of each input image, degrees (0 = front)")
    grid: int | None = Field(None, ge=16, le=512, description="one view: mesh grid; default RELIEF_GRID")
    shading_depth: float | None = Field(None, ge=0, le=1, description="one view: default RELIEF_SHADING_DEPTH")
    depth_scale: float | None = Field(None, gt=0, le=3, description="one view: thickness, 1 makes a disc a sphere; "
                                                                    "default RELIEF_DEPTH_SCALE")
    smoothness: float | None = Field(None, ge=0, le=1, description="one view: how much the outline is rounded "
                                                                   "before inflating; default RELIEF_SMOOTHNESS")
    hull_resolution: int | None = Field(None, ge=16, le=320,
                                        description="several views: voxels per side; default RELIEF_HULL_RESOLUTION")


class ReliefReconstructor(Reconstructor):
    name = "relief"
    Options = ReliefOptions

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        from shared.assets.relief import single_view_mesh, visual_hull
        from shared.assets.views import resolved_azimuths

        settings, options = ctx.settings, self.options
        if len(views) == 1:
            grid = options.grid or settings.relief_grid
            shading = settings.relief_shading_depth if options.shading_depth is None else options.shading_depth
            scale = options.depth_scale or settings.relief_depth_scale
            smoothness = settings.relief_smoothness if options.smoothness is None else options.smoothness
            mesh = single_view_mesh(views[0], grid, shading, scale, smoothness)
            ctx.note(f"relief: one view inflated (Poisson, depth scale {scale:g}) on a {grid}-cell grid; "
                     "photo on the front, a shaded estimate on the back")
            return mesh
        try:
            azimuths = resolved_azimuths(views, options.azimuths)
        except ValueError as error:
            raise InvalidRequest(f"relief reconstructor: {error}") from None
        resolution = options.hull_resolution or settings.relief_hull_resolution
        ctx.report(0.1, f"carving the hull of {len(views)} views")
        mesh = visual_hull(views, azimuths, resolution)
        if len(mesh.faces) == 0:
            raise ProviderError("the visual hull is empty")
        ctx.note(f"relief: visual hull of {len(views)} views at azimuths {', '.join(f'{a:g}' for a in azimuths)}"
                 f" on a {resolution}^3 grid, vertex-coloured from the views")
        return mesh
