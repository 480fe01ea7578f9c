"""TripoSR (the ``tsr`` package and a local checkpoint): the whole shape from the first view, on the GPU queue.

The model code is ``shared.envgen.image_mesh``'s (loaded once per worker process and kept hot). The
``tsr`` package is not on PyPI: the GPU image installs it from its source; without it the job
fails with a clear error rather than falling back silently (``relief`` is the CPU choice).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from shared import queues
from shared.errors import ProviderUnavailable
from shared.providers.base import Reconstructor

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.config import Settings
    from shared.pipeline.context import StageContext

REQUIRED_PACKAGES = ("torch", "tsr")


class TripoSRReconstructor(Reconstructor):
    name = "triposr"
    queue = queues.GPU

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        if not settings.triposr_model_path:
            raise ProviderUnavailable("the triposr reconstructor needs TRIPOSR_MODEL_PATH (config.yaml + model.ckpt)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        missing = [package for package in REQUIRED_PACKAGES if find_spec(package) is None]
        if missing:
            raise ProviderUnavailable(f"the triposr reconstructor needs {', '.join(missing)} installed "
                                      "(tsr comes from TripoSR's source, not PyPI)")
        folder = Path(settings.triposr_model_path).expanduser()
        if not (folder / "config.yaml").is_file() or not (folder / "model.ckpt").is_file():
            raise ProviderUnavailable(f"TRIPOSR_MODEL_PATH {settings.triposr_model_path!r} has no config.yaml "
                                      "and model.ckpt")

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        self.require_runtime(ctx.settings)
        import trimesh

        from shared.envgen.image_mesh import triposr_mesh
        from shared.envgen.text_to_image import torch_device

        front = views[0].on_white()
        device = torch_device(ctx.settings)
        hero, how = triposr_mesh(front, ctx.settings.triposr_model_path, device)
        ctx.note(f"{how} on {device}")
        mesh = trimesh.Trimesh(hero.positions, hero.faces, process=False)
        mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=hero.colors)
        return mesh
