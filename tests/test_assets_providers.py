"""The GPU providers of text_to_3d / image_to_3d on CPU: sdxl on a tiny random-weight pipeline built here,
what flux, shap_e and triposr check and say when they cannot run, and Shap-E's mesh conversion.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh
from PIL import Image
from pydantic import ValidationError

from shared import queues
from shared.assets.prompts import describe_azimuth, view_prompts
from shared.config import Settings
from shared.errors import ProviderError, ProviderUnavailable
from shared.models.diffusion import load_pipeline, load_shap_e
from shared.pipeline.assets import (
    IMAGES_PROGRESS,
    NORMALIZE_PROGRESS,
    RECONSTRUCT_PROGRESS,
    generate_images,
    normalize_images,
    reconstruct,
)
from shared.providers import registry
from shared.providers.images_diffusion import FluxImageGenerator, SDXLImageGenerator
from shared.providers.reconstruct_shap_e import ShapEReconstructor, to_trimesh
from shared.providers.reconstruct_triposr import TripoSRReconstructor
from tests import faults
from tests.media import png_bytes
from tests.stage_jobs import StageJob
from tests.test_sdxl_triposr import cuda_available, pipeline_folder

__all__ = ["pipeline_folder"]  # the fixture, imported so pytest finds it here

GPU_REASON = "needs a CUDA GPU: fp16 pipelines on cuda"


def marching_cubes_tables() -> tuple[Any, Any]:
    """Shap-E's marching-cubes lookup tables (a checkpoint's buffers), derived here from scikit-image.

    Each of the 256 corner sign patterns of one cube goes through skimage's classic (Lorensen)
    marching cubes; its vertices sit on edge midpoints, which map to Shap-E's edge numbering: 4 edges
    per axis x, y, z, each numbered by its offsets along the other two axes in order. A corner's bit
    is dx + 2 dy + 4 dz, set where the field is positive (inside).
    """
    import torch
    from skimage.measure import marching_cubes

    cases = torch.zeros(256, 5, 3, dtype=torch.long)
    masks = torch.zeros(256, 5, dtype=torch.bool)
    corners = np.array([[dx, dy, dz] for dx in (0, 1) for dy in (0, 1) for dz in (0, 1)])
    for case in range(1, 255):
        field = np.zeros((2, 2, 2))
        for dx, dy, dz in corners:
            field[dx, dy, dz] = 1.0 if case >> (dx + 2 * dy + 4 * dz) & 1 else -1.0
        vertices, faces, _, _ = marching_cubes(field, 0.0, method="lorensen")
        edges = []
        for vertex in np.rint(vertices * 2).astype(int):  # 0, 1 (the midpoint) or 2 along each axis
            axis = int(np.flatnonzero(vertex == 1)[0])
            first, second = (vertex[i] // 2 for i in range(3) if i != axis)
            edges.append(4 * axis + first + 2 * second)
        for number, face in enumerate(faces):
            cases[case, number] = torch.tensor([edges[i] for i in face])
            masks[case, number] = True
    return cases, masks


def tiny_shap_e(folder: Path) -> Path:
    """A ShapEImg2ImgPipeline of tiny random-weight parts with real marching-cubes tables, saved as a folder."""
    import torch
    from diffusers import HeunDiscreteScheduler, PriorTransformer, ShapEImg2ImgPipeline
    from diffusers.pipelines.shap_e import ShapERenderer
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(0)
    prior = PriorTransformer(num_attention_heads=2, attention_head_dim=8, num_layers=1, embedding_dim=16,
                             num_embeddings=32, additional_embeddings=0, time_embed_act_fn="gelu",
                             norm_in_type="layer", embedding_proj_norm_type="layer", encoder_hid_proj_type=None,
                             added_emb_type=None, time_embed_dim=64, embedding_proj_dim=16, clip_embed_dim=32)
    encoder = CLIPVisionModel(CLIPVisionConfig(hidden_size=16, image_size=32, projection_dim=16, intermediate_size=24,
                                               num_attention_heads=2, num_channels=3, num_hidden_layers=1,
                                               patch_size=8))
    processor = CLIPImageProcessor(crop_size=32, do_center_crop=True, do_normalize=True, do_resize=True,
                                   image_mean=[0.48, 0.46, 0.41], image_std=[0.27, 0.26, 0.28], resample=3, size=32)
    renderer = ShapERenderer(param_shapes=((8, 93), (8, 8), (8, 8), (8, 8)), d_latent=16, d_hidden=8, n_output=12,
                             background=(0.1, 0.1, 0.1))
    cases, masks = marching_cubes_tables()
    renderer.mesh_decoder.cases.copy_(cases)
    renderer.mesh_decoder.masks.copy_(masks)
    scheduler = HeunDiscreteScheduler(beta_schedule="exp", num_train_timesteps=1024, prediction_type="sample",
                                      use_karras_sigmas=True, clip_sample=True, clip_sample_range=1.0)
    ShapEImg2ImgPipeline(prior=prior, image_encoder=encoder, image_processor=processor, scheduler=scheduler,
                         shap_e_renderer=renderer).save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def fresh_pipeline_cache():
    load_pipeline.cache_clear()
    load_shap_e.cache_clear()
    yield
    load_pipeline.cache_clear()
    load_shap_e.cache_clear()


def gpu_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values = {"data_dir": tmp_path, "sdxl_pipeline_class": "StableDiffusionPipeline", "sdxl_device": "cpu",
              "sdxl_steps": 2, "sdxl_image_size": 64, "worker_torch_threads": 1, "asset_view_size": 64, **overrides}
    return Settings(**values)


def text_job(tmp_path: Path, settings: Settings, images: str = "sdxl", prompt: str = "a red kettle") -> StageJob:
    return StageJob(tmp_path, "text_to_3d", {"prompt": prompt, "seed": 7}, settings,
                    {"images": images, "reconstruct": "relief"})


def test_sdxl_pictures_four_views_from_one_pipeline_loaded_once(pipeline_folder, tmp_path):
    settings = gpu_settings(tmp_path, sdxl_model_path=str(pipeline_folder))
    first = text_job(tmp_path / "first", settings)
    first.run("generating_images", IMAGES_PROGRESS, generate_images)
    second = text_job(tmp_path / "second", settings)
    second.run("generating_images", IMAGES_PROGRESS, generate_images)

    cache = load_pipeline.cache_info()
    assert (cache.misses, cache.hits) == (1, 1)
    index = json.loads(first.artifact("views.json"))
    assert [v["azimuth_deg"] for v in index["views"]] == [0.0, 90.0, 180.0, 270.0]
    generated = [first.artifact(f"views/generated_{n}.png") for n in range(4)]
    assert all(Image.open(io.BytesIO(g)).size == (64, 64) for g in generated)
    assert generated == [second.artifact(f"views/generated_{n}.png") for n in range(4)]  # seeded
    assert len(set(generated)) == 4  # each view had its own prompt
    assert Image.open(io.BytesIO(first.artifact("views/view_3.png"))).size == (64, 64)
    assert any("4 views by StableDiffusionPipeline" in note and "on cpu" in note for note in first.record["notes"])
    assert first.record["progress"] == IMAGES_PROGRESS[1]


def test_multi_view_prompts_name_the_side_and_ask_for_a_plain_background():
    prompts = view_prompts("  a red   kettle ", [0.0, 90.0, 180.0, 270.0])
    assert prompts[0].startswith("a red kettle, front view, single isolated object")
    assert [p.split(", ")[1] for p in prompts] == ["front view", "left side view", "back view", "right side view"]
    assert all("plain white background" in p for p in prompts)
    assert describe_azimuth(315.0) == describe_azimuth(-45.0) == "front-right three-quarter view"


@pytest.mark.parametrize(("provider", "setting"), [(SDXLImageGenerator, "SDXL_MODEL_PATH"),
                                                   (FluxImageGenerator, "FLUX_MODEL_PATH")])
def test_diffusion_providers_check_settings_at_submit_and_files_on_the_worker(tmp_path, provider, setting):
    """Set by the old flat name (an alias); the messages name the grouped one."""
    with pytest.raises(ProviderUnavailable, match=f"needs {setting.replace('_', '__', 1)}"):
        provider.check_available(Settings(data_dir=tmp_path))
    configured = Settings(data_dir=tmp_path, **{setting.lower(): str(tmp_path / "only-on-the-gpu-host")})
    provider.check_available(configured)
    with pytest.raises(ProviderUnavailable, match="does not exist here"):
        provider.check_runtime(configured)
    (tmp_path / "not-a-pipeline").mkdir()
    with pytest.raises(ProviderUnavailable, match=r"no model_index\.json"):
        provider.check_runtime(Settings(data_dir=tmp_path, **{setting.lower(): str(tmp_path / "not-a-pipeline")}))

    job = text_job(tmp_path / "job", configured, images=provider.name)
    with pytest.raises(ProviderError, match="cannot load its model"):
        job.run("generating_images", IMAGES_PROGRESS, generate_images)
    assert provider.queue == queues.GPU


def test_triposr_says_what_is_missing(tmp_path):
    with pytest.raises(ProviderUnavailable, match="needs TRIPOSR__MODEL_PATH"):
        TripoSRReconstructor.check_available(Settings(data_dir=tmp_path))
    settings = Settings(data_dir=tmp_path, triposr_model_path=str(tmp_path))
    TripoSRReconstructor.check_available(settings)
    picture = Image.new("RGB", (64, 64), (255, 255, 255))
    picture.paste((200, 0, 0), (16, 16, 48, 48))
    job = StageJob(tmp_path / "job", "image_to_3d", {"images": ["images/uploaded/p.png"]}, settings,
                   {"reconstruct": "triposr"})
    job.objects.put_bytes("images/uploaded/p.png", png_bytes(picture))
    job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    with pytest.raises(ProviderError, match=r"needs tsr installed \(tsr is VAST-AI-Research/TripoSR's source, not on"):
        job.run("reconstructing_3d", RECONSTRUCT_PROGRESS, reconstruct)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # diffusers' Heun scheduler
def test_shap_e_meshes_the_first_view_with_a_tiny_pipeline_loaded_once(tmp_path):
    folder = tiny_shap_e(tmp_path / "tiny-shap-e")
    settings = gpu_settings(tmp_path, shap_e_model_path=str(folder), shap_e_steps=2, shap_e_mesh_grid=32,
                            asset_view_size=64)
    ShapEReconstructor.check_available(settings)
    ShapEReconstructor.check_runtime(settings)
    picture = Image.new("RGB", (64, 64), (255, 255, 255))
    picture.paste((30, 160, 60), (16, 8, 48, 56))
    raw = []
    for run in ("first", "second"):
        job = StageJob(tmp_path / run, "image_to_3d", {"images": ["images/uploaded/p.png"], "seed": 3}, settings,
                       {"reconstruct": "shap_e"})
        job.objects.put_bytes("images/uploaded/p.png", png_bytes(picture))
        job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
        job.run("reconstructing_3d", RECONSTRUCT_PROGRESS, reconstruct)
        raw.append(job.artifact("reconstruction.glb"))

    cache = load_shap_e.cache_info()
    assert (cache.misses, cache.hits) == (1, 1)
    assert raw[0] == raw[1]  # seeded
    mesh = trimesh.load(io.BytesIO(raw[0]), file_type="glb", force="mesh")
    assert len(mesh.faces) > 100 and mesh.visual.kind == "vertex"
    assert any("Shap-E" in note and "32^3 mesh grid" in note for note in job.record["notes"])


def test_shap_e_checks_and_mesh_conversion(tmp_path):
    import torch

    with pytest.raises(ProviderUnavailable, match="needs SHAP_E__MODEL_PATH"):
        ShapEReconstructor.check_available(Settings(data_dir=tmp_path))
    with pytest.raises(ProviderUnavailable, match="does not exist here"):
        ShapEReconstructor.check_runtime(Settings(data_dir=tmp_path, shap_e_model_path=str(tmp_path / "none")))

    class Output:  # what ShapERenderer.decode_to_mesh returns: Z-up vertices, linear colour channels
        verts = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        faces = torch.tensor([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
        vertex_channels = {"R": torch.tensor([1.0, 1.0, 0.0, 0.0]), "G": torch.zeros(4),
                           "B": torch.tensor([0.0, 0.0, 1.0, 1.0])}

    mesh = to_trimesh(Output())
    np.testing.assert_allclose(mesh.vertices[3], [0.0, 1.0, 0.0], atol=1e-6)  # Shap-E's +Z is our +Y
    assert mesh.visual.vertex_colors[:, :3].tolist() == [[255, 0, 0], [255, 0, 0], [0, 0, 255], [0, 0, 255]]

    class Empty(Output):
        verts = torch.zeros((0, 3))
        faces = torch.zeros((0, 3), dtype=torch.long)

    with pytest.raises(ProviderError, match="no surface"):
        to_trimesh(Empty())


def test_options_of_the_new_stages_are_bounded():
    for stage in ("images", "reconstruct"):
        for name in registry.names(stage):
            registry.provider_class(stage, name).Options.model_validate({})
    images = registry.provider_class("images", "sdxl").Options
    assert images.model_validate({"views": 8}).views == 8
    for bad in ({"views": 6}, {"image_size": 100}, {"steps": 0}, {"seed": 1}):
        with pytest.raises(ValidationError):
            images.model_validate(bad)
    relief = registry.provider_class("reconstruct", "relief").Options
    for bad in ({"azimuths": []}, {"azimuths": [0.0] * 9}, {"grid": 8}, {"shading_depth": 2}):
        with pytest.raises(ValidationError):
            relief.model_validate(bad)
    shipped = [name for name in registry.names("images") if name != faults.NAME]  # the tests' extra providers
    assert shipped == ["factory", "flux", "sdxl", "stub"]
    assert [name for name in registry.names("reconstruct") if name != faults.NAME] == [
        "factory", "relief", "sagemaker", "shap_e", "stub", "triposr"]


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason=GPU_REASON)
def test_sdxl_views_on_cuda(pipeline_folder, tmp_path):
    settings = gpu_settings(tmp_path, sdxl_model_path=str(pipeline_folder), sdxl_device="auto")
    job = text_job(tmp_path / "job", settings)
    job.run("generating_images", IMAGES_PROGRESS, generate_images)
    assert any("on cuda" in note for note in job.record["notes"])
