"""Shap-E (diffusers' ShapEImg2ImgPipeline): a whole, vertex-coloured shape from the first view, on the GPU queue.

The pipeline is ``shared.models.diffusion.load_shap_e``'s, cached beside any text-to-image
pipeline; the worker's checks are ``shared.models.runtime``'s. Shap-E's marching-cubes tables are
buffers of its checkpoint: a pipeline built without one (random weights) has empty tables and yields
no mesh, which ``to_trimesh`` reports clearly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared import queues
from shared.config import setting_name
from shared.errors import ProviderError, ProviderUnavailable
from shared.models.runtime import DIFFUSERS_PACKAGES, model_folder, require_packages, torch_device
from shared.providers.base import Reconstructor

if TYPE_CHECKING:
    from pathlib import Path

    import trimesh

    from shared.assets.views import View
    from shared.config import Settings
    from shared.pipeline.context import StageContext

GUIDANCE_SCALE = 3.0  # what Shap-E's authors use for image-conditioned sampling


def to_trimesh(output: Any) -> trimesh.Trimesh:
    """A Shap-E mesh (Z-up, linear colour channels R, G, B) as a Y-up, vertex-coloured trimesh."""
    import numpy as np
    import trimesh

    vertices = output.verts.detach().cpu().numpy().astype(float)
    faces = output.faces.detach().cpu().numpy().astype(np.int64)
    if len(vertices) == 0 or len(faces) == 0:
        raise ProviderError("Shap-E produced no surface (a checkpoint without marching-cubes tables, or an empty "
                            "field)")
    channels = output.vertex_channels or {}
    if all(name in channels for name in "RGB"):
        linear = np.stack([channels[name].detach().cpu().numpy() for name in "RGB"], axis=1)
    else:
        linear = np.full((len(vertices), 3), 0.6)
    colors = np.column_stack([np.round(np.clip(linear, 0, 1) * 255), np.full(len(vertices), 255)]).astype(np.uint8)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=colors)
    return mesh


class ShapEReconstructor(Reconstructor):
    name = "shap_e"
    queue = queues.GPU

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        if not settings.shap_e.model_path:
            raise ProviderUnavailable(f"the shap_e reconstructor needs {setting_name('shap_e.model_path')} (a local "
                                      "diffusers ShapEImg2ImgPipeline)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        cls.model_source(settings)

    @classmethod
    def model_source(cls, settings: Settings) -> Path:
        """The model's local folder, once the packages are known to be installed."""
        require_packages("the shap_e reconstructor", DIFFUSERS_PACKAGES)
        try:
            return model_folder("shap_e.model_path", settings.shap_e.model_path)
        except ProviderUnavailable as error:
            raise ProviderUnavailable(f"the shap_e reconstructor cannot load its model: {error}") from None

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        self.require_runtime(ctx.settings)
        import torch

        from shared.models.diffusion import load_shap_e

        settings = ctx.settings
        shap_e = settings.shap_e
        device = torch_device(settings)
        ctx.report(0.05, "loading Shap-E")
        pipeline = load_shap_e(str(self.model_source(settings)), device)
        front = views[0].on_white()
        ctx.report(0.2, f"sampling Shap-E latents ({shap_e.steps} steps)")
        generator = torch.Generator(device="cpu").manual_seed(int(ctx.request.get("seed") or 0))
        latents = pipeline(image=front, num_inference_steps=shap_e.steps, guidance_scale=GUIDANCE_SCALE,
                           generator=generator, output_type="latent").images
        ctx.report(0.7, f"decoding the mesh on a {shap_e.mesh_grid}^3 grid")
        # what the pipeline's output_type="mesh" does, with the grid ours to choose (it fixes 128)
        mesh = to_trimesh(pipeline.shap_e_renderer.decode_to_mesh(latents[0][None, :], device,
                                                                  grid_size=shap_e.mesh_grid))
        ctx.note(f"Shap-E from {shap_e.model_path} on {device}, {shap_e.steps} steps, "
                 f"{shap_e.mesh_grid}^3 mesh grid")
        return mesh
