"""The local-GPU env provider: a procedural scene with hero props pictured by a diffusion model and meshed.

Runs on the GPU queue. The heavy work is in ``shared.envgen.hero``; this module stays import-light
so the API can validate options and check availability without torch; the worker's checks are
``shared.models.runtime``'s, shared with every GPU provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import queues
from shared.config import setting_name
from shared.envgen import DEFAULT_GLB_BUDGET_BYTES, MAX_GLB_BUDGET_BYTES, MIN_GLB_BUDGET_BYTES
from shared.errors import ProviderError, ProviderUnavailable
from shared.models.runtime import DIFFUSERS_PACKAGES, model_folder, optional_triposr_folder, require_packages
from shared.providers.base import EnvGenerator
from shared.schemas.scene_plan import ScenePlan

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.pipeline.context import StageContext

MAX_HERO_PROPS = 3


class SDXLTripoSROptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hero_props: int = Field(2, ge=1, le=MAX_HERO_PROPS, description="hero props to picture and mesh")
    steps: int | None = Field(None, ge=1, le=100, description="denoising steps per picture; default SDXL__STEPS")
    image_size: int | None = Field(None, ge=64, le=1536, multiple_of=8,
                                   description="side of the square pictures, pixels; default SDXL__IMAGE_SIZE")
    glb_budget_bytes: int = Field(DEFAULT_GLB_BUDGET_BYTES, ge=MIN_GLB_BUDGET_BYTES, le=MAX_GLB_BUDGET_BYTES,
                                  description="largest scene.glb to write; the procedural part's detail is reduced")


class SDXLTripoSREnvGenerator(EnvGenerator):
    name = "sdxl_triposr"
    version = "1"
    queue = queues.GPU
    Options = SDXLTripoSROptions

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        """At submit (in the API, which has no GPU stack): only whether this server is set up for it."""
        if not settings.sdxl.model_path:
            raise ProviderUnavailable(f"the sdxl_triposr provider needs {setting_name('sdxl.model_path')} "
                                      "(a local diffusers pipeline)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        """On the GPU worker, before any work: the packages and the model folders are really there."""
        require_packages("the sdxl_triposr provider", DIFFUSERS_PACKAGES)
        cls.check_available(settings)
        model_folder("sdxl.model_path", settings.sdxl.model_path)
        optional_triposr_folder(settings)

    def generate(self, ctx: StageContext, plan: dict[str, Any]) -> None:
        from shared.envgen.hero import build_hero_scene

        self.require_runtime(ctx.settings)

        try:
            scene_plan = ScenePlan.model_validate(plan)
        except ValidationError as exc:
            raise ProviderError(f"the plan is not a valid ScenePlan: {exc}") from None
        settings = ctx.settings
        build_hero_scene(ctx, scene_plan, self.options.hero_props, self.options.steps or settings.sdxl.steps,
                         self.options.image_size or settings.sdxl.image_size, self.options.glb_budget_bytes)
