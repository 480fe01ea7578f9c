"""A cube the colour of the first view's object: instant, for exercising the pipeline around reconstruction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.providers.base import Reconstructor

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.pipeline.context import StageContext

CUBE_SIDE = 1.2


class StubReconstructor(Reconstructor):
    name = "stub"

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        import numpy as np
        import trimesh

        from shared.geometry.render import srgb_to_linear

        mask = views[0].mask()
        srgb = views[0].rgb()[mask].mean(axis=0) if mask.any() else np.full(3, 0.6)
        color = np.append(np.round(srgb_to_linear(srgb) * 255), 255).astype(np.uint8)
        cube = trimesh.creation.box(extents=(CUBE_SIDE,) * 3)
        cube.visual = trimesh.visual.ColorVisuals(cube, vertex_colors=np.tile(color, (len(cube.vertices), 1)))
        return cube
