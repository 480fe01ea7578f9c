"""Shap-E (diffusers' ShapEImg2ImgPipeline): a whole, vertex-coloured shape from the first view, on the GPU queue.

The pipeline is loaded with ``shared.envgen.text_to_image``'s loader but cached on its own, so a
worker that also runs an image model keeps both hot instead of swapping one for the other on
every job. Shap-E's marching-cubes tables are buffers of its checkpoint: a pipeline built without
one (random weights) has empty tables and yields no mesh, which ``to_trimesh`` reports clearly.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from shared import queues
from shared.errors import ProviderError, ProviderUnavailable
from shared.providers.base import Reconstructor
from shared.providers.env_sdxl_triposr import model_source_problem

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.config import Settings
    from shared.pipeline.context import StageContext

PIPELINE_CLASS = "ShapEImg2ImgPipeline"
REQUIRED_PACKAGES = ("torch", "diffusers", "transformers")
GUIDANCE_SCALE = 3.0  # what Shap-E's authors use for image-conditioned sampling


@lru_cache(maxsize=1)
def load_shap_e(model_path: str, device: str) -> Any:
    """The Shap-E pipeline, loaded once per worker process (beside any text-to-image pipeline)."""
    from shared.envgen.text_to_image import load_pipeline

    return load_pipeline.__wrapped__(PIPELINE_CLASS, model_path, device)


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
        if not settings.shap_e_model_path:
            raise ProviderUnavailable("the shap_e reconstructor needs SHAP_E_MODEL_PATH (a local diffusers "
                                      "ShapEImg2ImgPipeline)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        missing = [package for package in REQUIRED_PACKAGES if find_spec(package) is None]
        if missing:
            raise ProviderUnavailable(f"the shap_e reconstructor needs {', '.join(missing)} installed "
                                      "(pip install -r requirements-gpu.txt)")
        problem = model_source_problem("shap_e_model_path", settings.shap_e_model_path)
        if problem:
            raise ProviderUnavailable(f"the shap_e reconstructor cannot load its model: {problem}")

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        self.require_runtime(ctx.settings)
        import torch

        from shared.envgen.text_to_image import torch_device

        settings = ctx.settings
        device = torch_device(settings)
        ctx.report(0.05, "loading Shap-E")
        pipeline = load_shap_e(settings.shap_e_model_path, device)
        front = views[0].on_white()
        ctx.report(0.2, f"sampling Shap-E latents ({settings.shap_e_steps} steps)")
        generator = torch.Generator(device="cpu").manual_seed(int(ctx.request.get("seed") or 0))
        latents = pipeline(image=front, num_inference_steps=settings.shap_e_steps, guidance_scale=GUIDANCE_SCALE,
                           generator=generator, output_type="latent").images
        ctx.report(0.7, f"decoding the mesh on a {settings.shap_e_mesh_grid}^3 grid")
        # what the pipeline's output_type="mesh" does, with the grid ours to choose (it fixes 128)
        mesh = to_trimesh(pipeline.shap_e_renderer.decode_to_mesh(latents[0][None, :], device,
                                                                  grid_size=settings.shap_e_mesh_grid))
        ctx.note(f"Shap-E from {settings.shap_e_model_path} on {device}, {settings.shap_e_steps} steps, "
                 f"{settings.shap_e_mesh_grid}^3 mesh grid")
        return mesh
