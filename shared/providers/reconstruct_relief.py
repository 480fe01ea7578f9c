"""The default reconstructor, CPU only: a relief from one view, the visual hull of several (``shared.assets.relief``).

Several views need their azimuths: generated views carry them; for uploaded photos they are the
``azimuths`` option (degrees, one per image, in order; see ``shared.assets.views`` for the
convention), else structure from motion is asked for them (``shared.assets.poses``). When it cannot
place every photo, the model is the inflated body of the clearest one, and the job's notes and
``details.reconstruction`` say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import InvalidRequest, ProviderError
from shared.providers.base import Reconstructor

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.pipeline.context import StageContext


class ReliefOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # JSON parsers take NaN and Infinity

    azimuths: list[float] | None = Field(None, min_length=1, max_length=8,
                                         description="azimuth of each input image, degrees (0 = front)")
    grid: int | None = Field(None, ge=16, le=512, description="one view: mesh grid; default RELIEF_GRID")
    shading_depth: float | None = Field(None, ge=0, le=1, description="one view: default RELIEF_SHADING_DEPTH")
    depth_scale: float | None = Field(None, gt=0, le=3, description="one view: thickness, 1 makes a disc a sphere; "
                                                                    "default RELIEF_DEPTH_SCALE")
    smoothness: float | None = Field(None, ge=0, le=1, description="one view: how much the outline is rounded "
                                                                   "before inflating; default RELIEF_SMOOTHNESS")
    plateau: float | None = Field(None, gt=0, le=1, description="one view: depth levels off at this share of the "
                                                                "deepest point (1: none); default RELIEF_PLATEAU")
    hull_resolution: int | None = Field(None, ge=16, le=320,
                                        description="several views: voxels per side; default RELIEF_HULL_RESOLUTION")


class ReliefReconstructor(Reconstructor):
    name = "relief"
    version = "2"  # 2: Poisson inflation, two-sided texture, a structure-from-motion hull of photos
    Options = ReliefOptions

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        from shared.assets.poses import NoPoses, turntable_azimuths
        from shared.assets.relief import visual_hull
        from shared.assets.views import VIEWS_INDEX, resolved_azimuths

        settings, options = ctx.settings, self.options
        if len(views) == 1:
            return self._single(ctx, views[0], "one photo")
        if options.azimuths is None and any(view.azimuth_deg is None for view in views):
            ctx.report(0.05, f"looking for the cameras of {len(views)} photos (structure from motion)")
            try:
                azimuths = turntable_azimuths(views, ctx.workdir)
            except NoPoses as why:
                best = clearest_view(views, ctx.read_json_artifact(VIEWS_INDEX)["views"])
                ctx.note(f"relief: no visual hull: {why}; the model is built from the clearest single photo "
                         f"({best.name}) instead")
                return self._single(ctx, best, f"fallback to one photo: {why}")
            poses = "structure from motion"
        else:
            try:
                azimuths = resolved_azimuths(views, options.azimuths)
            except ValueError as error:
                raise InvalidRequest(f"relief reconstructor: {error}") from None
            poses = "given"
        resolution = options.hull_resolution or settings.relief_hull_resolution
        ctx.report(0.1, f"carving the hull of {len(views)} views")
        mesh = visual_hull(views, azimuths, resolution)
        if len(mesh.faces) == 0:
            raise ProviderError("the visual hull is empty")
        ctx.note(f"relief: visual hull of {len(views)} views at azimuths {', '.join(f'{a:g}' for a in azimuths)}"
                 f" ({poses}) on a {resolution}^3 grid, vertex-coloured from the views")
        ctx.add_details({"front_view": views[0].name, "front_offset": [0.0, 0.0],
                         "reconstruction": {"method": "visual hull", "poses": poses,
                                            "azimuths_deg": [round(a, 2) for a in azimuths]}})
        return mesh

    def _single(self, ctx: StageContext, view: View, why: str) -> trimesh.Trimesh:
        """The Poisson-inflated body of one view, recorded as the model's front."""
        from shared.assets.relief import single_view_mesh
        from shared.assets.views import mask_centre

        settings, options = ctx.settings, self.options
        grid = options.grid or settings.relief_grid
        shading = settings.relief_shading_depth if options.shading_depth is None else options.shading_depth
        scale = options.depth_scale or settings.relief_depth_scale
        smoothness = settings.relief_smoothness if options.smoothness is None else options.smoothness
        plateau = options.plateau or settings.relief_plateau
        mesh = single_view_mesh(view, grid, shading, scale, smoothness, plateau)
        ctx.note(f"relief: {view.name} inflated (Poisson, depth scale {scale:g}, plateau {plateau:g}) on a "
                 f"{grid}-cell grid; "
                 "photo on the front, a shaded estimate on the back")
        ctx.add_details({"front_view": view.name, "front_offset": [round(v, 6) for v in mask_centre(view)],
                         "reconstruction": {"method": "single view inflation", "why": why}})
        return mesh


def clearest_view(views: list[View], entries: list[dict[str, Any]]) -> View:
    """The view whose subject was found most surely: whole (not cut by the picture's edge), unlike its
    background in colour, then the largest."""
    def score(number: int) -> tuple[bool, float, float]:
        facts = entries[number].get("segmentation") or {}
        return (not facts.get("touches_border", False), -float(facts.get("colour_overlap", 0.5)),
                float(facts.get("coverage", 0.0)))

    return views[max(range(len(views)), key=score)]
