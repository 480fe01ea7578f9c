"""The local-GPU env provider: a procedural scene with hero props pictured by a diffusion model and meshed.

Runs on the GPU queue. The heavy work is in ``shared.envgen.hero``; this module stays import-light
so the API can validate options and check availability without torch (``find_spec`` looks for the
packages without importing them).
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import queues
from shared.envgen import DEFAULT_GLB_BUDGET_BYTES, MAX_GLB_BUDGET_BYTES, MIN_GLB_BUDGET_BYTES
from shared.errors import ProviderError, ProviderUnavailable
from shared.providers.base import EnvGenerator
from shared.schemas.scene_plan import ScenePlan

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.pipeline.context import StageContext

MAX_HERO_PROPS = 3
REQUIRED_PACKAGES = ("torch", "diffusers", "transformers")
MODEL_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


class SDXLTripoSROptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hero_props: int = Field(2, ge=1, le=MAX_HERO_PROPS, description="hero props to picture and mesh")
    steps: int | None = Field(None, ge=1, le=100, description="denoising steps per picture; default SDXL_STEPS")
    image_size: int | None = Field(None, ge=64, le=1536, multiple_of=8,
                                   description="side of the square pictures, pixels; default SDXL_IMAGE_SIZE")
    glb_budget_bytes: int = Field(DEFAULT_GLB_BUDGET_BYTES, ge=MIN_GLB_BUDGET_BYTES, le=MAX_GLB_BUDGET_BYTES,
                                  description="largest scene.glb to write; the procedural part's detail is reduced")


def _cached_model(model_id: str) -> bool:
    """Whether a hub model id is already in the local Hugging Face cache (nothing is downloaded)."""
    if find_spec("huggingface_hub") is None:
        return False
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model_id, "model_index.json"), str)


def model_source_problem(setting: str, source: str) -> str | None:
    """Why ``source`` (a local pipeline folder or an already-cached hub id) cannot be loaded here, or None."""
    if not source:
        return f"{setting.upper()} is not set"
    folder = Path(source).expanduser()
    if folder.is_dir():
        return None if (folder / "model_index.json").is_file() else (
            f"{setting.upper()} {source!r} is not a diffusers pipeline folder (no model_index.json)")
    if MODEL_ID.match(source) and _cached_model(source):
        return None
    return f"{setting.upper()} {source!r} does not exist here (neither a folder nor a model in the local cache)"


class SDXLTripoSREnvGenerator(EnvGenerator):
    name = "sdxl_triposr"
    version = "1"
    queue = queues.GPU
    Options = SDXLTripoSROptions

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        """At submit (in the API, which has no GPU stack): only whether this server is set up for it."""
        if not settings.sdxl_model_path:
            raise ProviderUnavailable("the sdxl_triposr provider needs SDXL_MODEL_PATH (a local diffusers pipeline)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        """On the GPU worker, before any work: the packages and the model folder are really there."""
        missing = [package for package in REQUIRED_PACKAGES if find_spec(package) is None]
        if missing:
            raise ProviderUnavailable(f"the sdxl_triposr provider needs {', '.join(missing)} installed "
                                      "(pip install -r requirements-gpu.txt)")
        source = settings.sdxl_model_path
        if not source:
            raise ProviderUnavailable("the sdxl_triposr provider needs SDXL_MODEL_PATH (a local diffusers pipeline)")
        problem = model_source_problem("sdxl_model_path", source)
        if problem:
            raise ProviderUnavailable(problem)
        triposr = settings.triposr_model_path
        if triposr and not Path(triposr).expanduser().is_dir():
            raise ProviderUnavailable(f"TRIPOSR_MODEL_PATH {triposr!r} is not a folder")

    def generate(self, ctx: StageContext, plan: dict[str, Any]) -> None:
        from shared.envgen.hero import build_hero_scene

        self.require_runtime(ctx.settings)

        try:
            scene_plan = ScenePlan.model_validate(plan)
        except ValidationError as exc:
            raise ProviderError(f"the plan is not a valid ScenePlan: {exc}") from None
        settings = ctx.settings
        build_hero_scene(ctx, scene_plan, self.options.hero_props, self.options.steps or settings.sdxl_steps,
                         self.options.image_size or settings.sdxl_image_size, self.options.glb_budget_bytes)
