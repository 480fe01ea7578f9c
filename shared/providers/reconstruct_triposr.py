"""TripoSR (the ``tsr`` package and a local checkpoint): the whole shape from the first view, on the GPU queue.

The model code is ``shared.models.triposr``'s (loaded once per worker process and kept hot). The
``tsr`` package is not on PyPI and no image of ours installs it (see that module for what a GPU
host adds); without it the job fails with a clear error rather than falling back silently
(``relief`` is the CPU choice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import queues
from shared.config import setting_name
from shared.errors import ProviderUnavailable
from shared.models.runtime import (
    TRIPOSR_FILES,
    TRIPOSR_HINT,
    TRIPOSR_PACKAGES,
    model_folder,
    require_packages,
    torch_device,
)
from shared.providers.base import Reconstructor

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.config import Settings
    from shared.pipeline.context import StageContext



class TripoSRReconstructor(Reconstructor):
    name = "triposr"
    queue = queues.GPU

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        if not settings.triposr.model_path:
            raise ProviderUnavailable(f"the triposr reconstructor needs {setting_name('triposr.model_path')} "
                                      "(config.yaml + model.ckpt)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        cls.model_source(settings)

    @classmethod
    def model_source(cls, settings: Settings) -> str:
        """The checkpoint's local folder, once the packages are known to be installed."""
        require_packages("the triposr reconstructor", TRIPOSR_PACKAGES, TRIPOSR_HINT)
        cls.check_available(settings)
        return str(model_folder("triposr.model_path", settings.triposr.model_path, TRIPOSR_FILES))

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        self.require_runtime(ctx.settings)
        import trimesh

        from shared.models.triposr import triposr_mesh

        front = views[0].on_white()
        device = torch_device(ctx.settings)
        hero, how = triposr_mesh(front, self.model_source(ctx.settings), device)
        ctx.note(f"{how} on {device}")
        mesh = trimesh.Trimesh(hero.positions, hero.faces, process=False)
        mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=hero.colors)
        return mesh
