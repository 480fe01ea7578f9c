"""Multi-view pictures from a local diffusers text-to-image model: ``sdxl`` and ``flux``.

Both reuse ``shared.envgen.text_to_image``: the pipeline is loaded once per worker process and kept
hot, noise comes from a seeded CPU generator. Every view shares the seed and the subject; only the
named side changes (``shared.assets.prompts``). Module level stays import-light: the API checks
settings with ``check_available``; the GPU worker checks packages and files with ``check_runtime``
before any work.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from shared import queues
from shared.assets.prompts import ViewsOptions, view_prompts
from shared.errors import ProviderUnavailable
from shared.providers.base import ImageGenerator
from shared.providers.env_sdxl_triposr import REQUIRED_PACKAGES, model_source_problem

if TYPE_CHECKING:
    from PIL import Image

    from shared.config import Settings
    from shared.pipeline.context import StageContext


class DiffusionImagesOptions(ViewsOptions):
    steps: int | None = Field(None, ge=1, le=100, description="denoising steps per view; default from the settings")
    image_size: int | None = Field(None, ge=64, le=2048, multiple_of=16,
                                   description="side of the square pictures, pixels; default from the settings")


class DiffusionImageGenerator(ImageGenerator):
    """What sdxl and flux share; a subclass names its settings."""

    queue = queues.GPU
    Options = DiffusionImagesOptions
    model_setting: ClassVar[str]
    steps_setting: ClassVar[str]
    size_setting: ClassVar[str]

    @classmethod
    def pipeline_class(cls, settings: Settings) -> str:
        raise NotImplementedError

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        """At submit (in the API, which has no GPU stack): only whether this server is set up for it."""
        if not getattr(settings, cls.model_setting):
            raise ProviderUnavailable(f"the {cls.name} images provider needs {cls.model_setting.upper()} "
                                      "(a local diffusers pipeline)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        """On the GPU worker, before any work: the packages and the model are really there."""
        missing = [package for package in REQUIRED_PACKAGES if find_spec(package) is None]
        if missing:
            raise ProviderUnavailable(f"the {cls.name} images provider needs {', '.join(missing)} installed "
                                      "(pip install -r requirements-gpu.txt)")
        problem = model_source_problem(cls.model_setting, getattr(settings, cls.model_setting))
        if problem:
            raise ProviderUnavailable(f"the {cls.name} images provider cannot load its model: {problem}")

    def generate(self, ctx: StageContext, prompt: str, azimuths: list[float], seed: int) -> list[Image.Image]:
        self.require_runtime(ctx.settings)

        from shared.envgen.text_to_image import generate_image, load_pipeline, torch_device

        settings = ctx.settings
        device = torch_device(settings)
        source, class_name = getattr(settings, self.model_setting), self.pipeline_class(settings)
        ctx.report(0.02, f"loading {class_name}")
        pipeline = load_pipeline(class_name, source, device)
        steps = self.options.steps or getattr(settings, self.steps_setting)
        size = self.options.image_size or getattr(settings, self.size_setting)
        prompts = view_prompts(prompt, azimuths)
        pictures = []
        for number, text in enumerate(prompts):
            def on_step(step: int, number: int = number) -> None:
                ctx.report(0.05 + 0.95 * (number + step / steps) / len(prompts),
                           f"view {number + 1} of {len(prompts)}: step {step} of {steps}")

            pictures.append(generate_image(pipeline, text, seed, steps, size, on_step))
        ctx.note(f"{len(pictures)} views by {class_name} {Path(source).name} on {device}, {steps} steps, {size} px")
        return pictures


class SDXLImageGenerator(DiffusionImageGenerator):
    name = "sdxl"
    model_setting = "sdxl_model_path"
    steps_setting = "sdxl_steps"
    size_setting = "sdxl_image_size"

    @classmethod
    def pipeline_class(cls, settings: Settings) -> str:
        return settings.sdxl_pipeline_class


class FluxImageGenerator(DiffusionImageGenerator):
    name = "flux"
    model_setting = "flux_model_path"
    steps_setting = "flux_steps"
    size_setting = "flux_image_size"

    @classmethod
    def pipeline_class(cls, settings: Settings) -> str:
        return "FluxPipeline"
