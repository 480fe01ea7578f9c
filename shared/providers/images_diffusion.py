"""Multi-view pictures from a local diffusers text-to-image model: ``sdxl`` and ``flux``.

Both reuse ``shared.models.diffusion``: the pipeline is loaded once per worker process and kept
hot, noise comes from a seeded CPU generator. Every view shares the seed and the subject; only the
named side changes (``shared.assets.prompts``). Module level stays import-light: the API checks
settings with ``check_available``; the GPU worker checks packages and files with ``check_runtime``
(``shared.models.runtime``) before any work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from shared import queues
from shared.assets.prompts import ViewsOptions, view_prompts
from shared.config import FluxSettings, SDXLSettings, setting_name
from shared.errors import ProviderUnavailable
from shared.models.runtime import DIFFUSERS_PACKAGES, model_folder, require_packages, torch_device
from shared.providers.base import ImageGenerator

if TYPE_CHECKING:
    from PIL import Image

    from shared.config import Settings
    from shared.pipeline.context import StageContext


class DiffusionImagesOptions(ViewsOptions):
    steps: int | None = Field(None, ge=1, le=100, description="denoising steps per view; default from the settings")
    image_size: int | None = Field(None, ge=64, le=2048, multiple_of=16,
                                   description="side of the square pictures, pixels; default from the settings")


class DiffusionImageGenerator(ImageGenerator):
    """What sdxl and flux share; a subclass names its settings group (``SDXL__*``, ``FLUX__*``)."""

    queue = queues.GPU
    Options = DiffusionImagesOptions
    group: ClassVar[str]

    @classmethod
    def models(cls, settings: Settings) -> SDXLSettings | FluxSettings:
        """This provider's settings group: model_path, steps, image_size."""
        group: SDXLSettings | FluxSettings = getattr(settings, cls.group)
        return group

    @classmethod
    def pipeline_class(cls, settings: Settings) -> str:
        raise NotImplementedError

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        """At submit (in the API, which has no GPU stack): only whether this server is set up for it."""
        if not cls.models(settings).model_path:
            raise ProviderUnavailable(f"the {cls.name} images provider needs {setting_name(cls.group + '.model_path')} "
                                      "(a local diffusers pipeline)")

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        """On the GPU worker, before any work: the packages and the model are really there."""
        cls.model_source(settings)

    @classmethod
    def model_source(cls, settings: Settings) -> Path:
        """The model's local folder, once the packages are known to be installed."""
        require_packages(f"the {cls.name} images provider", DIFFUSERS_PACKAGES)
        try:
            return model_folder(cls.group + ".model_path", cls.models(settings).model_path)
        except ProviderUnavailable as error:
            raise ProviderUnavailable(f"the {cls.name} images provider cannot load its model: {error}") from None

    def generate(self, ctx: StageContext, prompt: str, azimuths: list[float], seed: int) -> list[Image.Image]:
        self.require_runtime(ctx.settings)

        from shared.models.diffusion import generate_image, load_pipeline

        settings = ctx.settings
        models = self.models(settings)
        device = torch_device(settings)
        source, class_name = self.model_source(settings), self.pipeline_class(settings)
        ctx.report(0.02, f"loading {class_name}")
        pipeline = load_pipeline(class_name, str(source), device)
        steps = self.options.steps or models.steps
        size = self.options.image_size or models.image_size
        prompts = view_prompts(prompt, azimuths)
        pictures = []
        for number, text in enumerate(prompts):
            def on_step(step: int, number: int = number) -> None:
                ctx.report(0.05 + 0.95 * (number + step / steps) / len(prompts),
                           f"view {number + 1} of {len(prompts)}: step {step} of {steps}")

            pictures.append(generate_image(pipeline, text, seed, steps, size, on_step))
        ctx.note(f"{len(pictures)} views by {class_name} {Path(models.model_path).name} on {device}, {steps} steps, "
                 f"{size} px")
        return pictures


class SDXLImageGenerator(DiffusionImageGenerator):
    name = "sdxl"
    group = "sdxl"

    @classmethod
    def pipeline_class(cls, settings: Settings) -> str:
        return settings.sdxl.pipeline_class


class FluxImageGenerator(DiffusionImageGenerator):
    name = "flux"
    group = "flux"

    @classmethod
    def pipeline_class(cls, settings: Settings) -> str:
        return "FluxPipeline"
