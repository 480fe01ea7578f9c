"""The sdxl_triposr env provider: its real loading and generation code on a tiny random-weight diffusers
pipeline built here (nothing downloaded), the silhouette mesher on synthetic pictures, and hero props
placed into the procedural scene. The scene is checked from the GLB itself (trimesh), not from the
provider's bookkeeping.
"""

from __future__ import annotations

import io
import re
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageDraw
from pydantic import ValidationError

from shared.config import Settings
from shared.envgen.hero import choose_heroes
from shared.envgen.image_mesh import silhouette_mesh
from shared.envgen.rules import plan_from_prompt
from shared.errors import ProviderUnavailable
from shared.models import runtime
from shared.models.diffusion import load_pipeline
from shared.pipeline.context import StageContext
from shared.pipeline.env import SCENE_PROGRESS
from shared.providers import env_sdxl_triposr
from shared.providers.registry import provider_class
from shared.schemas.scene_plan import OBJECT_KINDS
from shared.storage.factory import open_object_store
from tests.stage_jobs import StageJob

PROP_NAME = re.compile(rf"^({'|'.join(OBJECT_KINDS)})_\d{{3}}$")
GPU_REASON = "needs a CUDA GPU: fp16 SDXL on cuda"


def tiny_pipeline(folder: Path) -> Path:
    """A StableDiffusionPipeline of tiny random-weight parts (a few MB), saved as a real pipeline folder."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16, norm_num_groups=4, attention_head_dim=2)
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, vocab_size=64, hidden_size=16, intermediate_size=32,
        num_attention_heads=2, num_hidden_layers=2, max_position_embeddings=77, projection_dim=16))
    # a character-level BPE vocabulary: every prompt tokenizes, no merges file needed
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in "abcdefghijklmnopqrstuvwxyz,":
        vocab[letter] = len(vocab)
        vocab[f"{letter}</w>"] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    scheduler = DDIMScheduler(clip_sample=False, steps_offset=1)
    StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                            safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def pipeline_folder(tmp_path_factory) -> Path:
    torch = pytest.importorskip("torch", reason="the GPU extras are not installed (requirements-gpu.txt)")
    pytest.importorskip("diffusers", reason="the GPU extras are not installed (requirements-gpu.txt)")
    torch.set_num_threads(1)
    return tiny_pipeline(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(autouse=True)
def fresh_pipeline_cache():
    """Each test starts with no pipeline loaded, so cache counts mean what the test did."""
    load_pipeline.cache_clear()
    yield
    load_pipeline.cache_clear()


def cuda_available() -> bool:
    if find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def gpu_settings(folder: Path, tmp_path: Path, **overrides: Any) -> Settings:
    values = {"sdxl_model_path": str(folder), "sdxl_pipeline_class": "StableDiffusionPipeline",
              "sdxl_device": "cpu", "sdxl_steps": 2, "sdxl_image_size": 64, "worker_torch_threads": 1,
              "object_store_url": str(tmp_path / "objects"), **overrides}
    return Settings(**values)


def running_context(settings: Settings, tmp_path: Path, options: dict[str, Any]) -> StageContext:
    """A real stage context: a job in a SQLite job store, artifacts in the settings' object store."""
    job = StageJob(tmp_path, "env", {"prompt": "a farm", "options": {"env": options}}, settings,
                   {"plan": "rules", "env": "sdxl_triposr"}, objects=open_object_store(settings))
    return job.context("generating_scene", SCENE_PROGRESS)


def run_provider(settings: Settings, tmp_path: Path, plan: dict[str, Any], options: dict[str, Any]) -> StageContext:
    ctx = running_context(settings, tmp_path, options)
    generator = provider_class("env", "sdxl_triposr")(options)
    generator.generate(ctx, plan)
    return ctx


def world_boxes(scene: trimesh.Scene) -> dict[str, np.ndarray]:
    """XZ box of every mesh node, from its transformed vertices."""
    boxes = {}
    for node in scene.graph.nodes_geometry:
        transform, geometry = scene.graph[node]
        world = trimesh.transform_points(scene.geometry[geometry].vertices, transform)
        boxes[node] = np.array([world[:, 0].min(), world[:, 2].min(), world[:, 0].max(), world[:, 2].max()])
    return boxes


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def test_scene_gets_hero_props_from_a_real_pipeline_loaded_once(pipeline_folder, tmp_path):
    settings = gpu_settings(pipeline_folder, tmp_path)
    plan = plan_from_prompt("a farm with hay bales", 11).model_dump(mode="json")
    options = {"hero_props": 2}
    first = run_provider(settings, tmp_path / "first", plan, options)
    second = run_provider(settings, tmp_path / "second", plan, options)

    cache = load_pipeline.cache_info()
    assert (cache.misses, cache.hits) == (1, 1)

    glb = first.read_artifact("scene.glb")
    scene = trimesh.load(io.BytesIO(glb), file_type="glb", force="scene")
    boxes = world_boxes(scene)
    heroes = sorted(name for name in boxes if name.startswith("hero_"))
    props = [name for name in boxes if PROP_NAME.match(name)]
    assert heroes == ["hero_000", "hero_001"]
    assert len(props) >= 10
    for hero in heroes:
        assert not [prop for prop in props if overlap(boxes[hero], boxes[prop])], hero
        mesh = scene.geometry[scene.graph[hero][1]]
        assert len(mesh.vertices) > 500 and mesh.is_watertight
        assert mesh.visual.kind == "vertex" or "color" in getattr(mesh.visual, "vertex_attributes", {})
    assert not overlap(boxes["hero_000"], boxes["hero_001"])

    for name in ("views/hero_000.png", "views/hero_001.png"):
        picture = Image.open(io.BytesIO(first.read_artifact(name)))
        assert picture.size == (64, 64)
        assert first.read_artifact(name) == second.read_artifact(name)
    assert first.read_artifact("views/hero_000.png") != first.read_artifact("views/hero_001.png")
    assert second.read_artifact("scene.glb") == glb
    assert Image.open(io.BytesIO(first.read_artifact("thumbnail.png"))).size == (512, 384)

    notes = first.jobs.get(first.job_id)["notes"]
    assert any(f"StableDiffusionPipeline {pipeline_folder.name} on cpu" in note for note in notes)
    assert sum("silhouette mesher" in note for note in notes) == 2


def test_submit_check_needs_only_the_setting_and_worker_check_names_what_is_missing(
    pipeline_folder, tmp_path, monkeypatch
):
    provider = env_sdxl_triposr.SDXLTripoSREnvGenerator
    provider.check_available(gpu_settings(tmp_path / "only-on-the-gpu-host", tmp_path))
    with pytest.raises(ProviderUnavailable, match="needs SDXL__MODEL_PATH"):
        provider.check_available(gpu_settings(pipeline_folder, tmp_path, sdxl_model_path=""))
    provider.check_runtime(gpu_settings(pipeline_folder, tmp_path))

    with pytest.raises(ProviderUnavailable, match="does not exist"):
        provider.check_runtime(gpu_settings(tmp_path / "no-such-model", tmp_path))
    with pytest.raises(ProviderUnavailable, match="needs SDXL__MODEL_PATH"):
        provider.check_runtime(gpu_settings(pipeline_folder, tmp_path, sdxl_model_path=""))
    with pytest.raises(ProviderUnavailable, match=r"no model_index\.json"):
        provider.check_runtime(gpu_settings(pipeline_folder / "unet", tmp_path))
    with pytest.raises(ProviderUnavailable, match="TRIPOSR__MODEL_PATH"):
        provider.check_runtime(gpu_settings(pipeline_folder, tmp_path, triposr_model_path=str(tmp_path / "none")))

    monkeypatch.setattr(runtime, "find_spec", lambda name: None if name == "diffusers" else object())
    with pytest.raises(ProviderUnavailable, match=r"needs diffusers installed \(pip install -r requirements-gpu.txt"):
        provider.check_runtime(gpu_settings(pipeline_folder, tmp_path))


def test_options_are_bounded():
    options = env_sdxl_triposr.SDXLTripoSROptions
    assert options.model_validate({}).hero_props == 2
    for bad in ({"hero_props": 0}, {"hero_props": 4}, {"image_size": 100}, {"image_size": 4096}, {"steps": 0},
                {"seed": 1}):
        with pytest.raises(ValidationError):
            options.model_validate(bad)


def test_heroes_are_the_biggest_groups_with_prompts_from_the_plan():
    plan = plan_from_prompt("a farm with hay bales", 11)
    heroes = choose_heroes(plan, 3)
    assert [hero.name for hero in heroes] == ["hero_000", "hero_001", "hero_002"]
    assert heroes[0].kind == "house"
    assert len({hero.group for hero in heroes}) == 3 and len({hero.seed for hero in heroes}) == 3
    assert "isolated object on plain white background, studio lighting" in heroes[0].prompt
    assert "house" in heroes[0].prompt and "farm" in heroes[0].prompt
    assert choose_heroes(plan, 3) == heroes
    assert choose_heroes(plan.model_copy(update={"objects": []}), 3) == []


def disc_picture(size: int = 200, radius: int = 60, centre_colour: tuple[int, int, int] | None = None) -> Image.Image:
    picture = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    c = size / 2
    draw.ellipse([c - radius, c - radius, c + radius, c + radius], fill=(200, 30, 30))
    if centre_colour is not None:
        draw.ellipse([c - radius / 2, c - radius / 2, c + radius / 2, c + radius / 2], fill=centre_colour)
    return picture


def silhouette_area(positions: np.ndarray, faces: np.ndarray) -> float:
    """Area of the mesh's outline seen along -Z: its front faces' projected area."""
    corners = positions[faces]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])[:, 2]
    return float(cross[cross > 0].sum() / 2)


@pytest.mark.parametrize("centre", [None, (255, 255, 255)], ids=["red-disc", "white-centre-stays-inside"])
def test_silhouette_mesher_inflates_a_disc_into_a_closed_solid(centre):
    mesh, how = silhouette_mesh(disc_picture(centre_colour=centre))

    assert "cut from its #ffffff background" in how
    solid = trimesh.Trimesh(mesh.positions, mesh.faces, process=False)
    assert solid.is_watertight and solid.is_winding_consistent and solid.volume > 0
    assert silhouette_area(mesh.positions, mesh.faces) == pytest.approx(np.pi * 60**2, rel=0.10)
    width = np.ptp(mesh.positions[:, 0])
    assert width == pytest.approx(120, rel=0.05)
    assert 0.4 * width < np.ptp(mesh.positions[:, 2]) < 0.8 * width  # inflated: deep, but less than wide
    # colours are the disc's, in linear light: sRGB 200 -> linear 147
    assert np.median(mesh.colors[:, 0]) == 147 and mesh.colors[:, 3].min() == 255


def test_a_picture_without_plain_background_becomes_a_closed_relief():
    noise = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    mesh, how = silhouette_mesh(Image.fromarray(noise))

    assert "no plain background" in how
    solid = trimesh.Trimesh(mesh.positions, mesh.faces, process=False)
    assert solid.is_watertight and solid.volume > 0
    assert silhouette_area(mesh.positions, mesh.faces) == pytest.approx(63 * 47, rel=0.02)


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason=GPU_REASON)
def test_cuda_loads_in_half_precision(pipeline_folder, tmp_path):
    import torch

    from shared.models.diffusion import generate_image, hot_pipeline

    pipeline, device = hot_pipeline(gpu_settings(pipeline_folder, tmp_path, sdxl_device="auto"))
    assert device == "cuda"
    assert pipeline.unet.dtype == torch.float16 and pipeline.unet.device.type == "cuda"
    assert generate_image(pipeline, "a red crate", 1, 2, 64).size == (64, 64)
