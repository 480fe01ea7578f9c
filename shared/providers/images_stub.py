"""Instant, deterministic views for text_to_3d: the prompt's simple solid rendered on the CPU.

"a red cube" gives a red box, "a blue vase" a blue cylinder, anything else a capsule in a colour
drawn from the prompt; the same prompt and seed always give the same pictures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from shared.assets.prompts import ViewsOptions
from shared.providers.base import ImageGenerator

if TYPE_CHECKING:
    from PIL import Image

    from shared.pipeline.context import StageContext


class StubImagesOptions(ViewsOptions):
    size: int = Field(256, ge=64, le=1024, description="side of the rendered pictures, pixels")


class StubImageGenerator(ImageGenerator):
    name = "stub"
    Options = StubImagesOptions

    def generate(self, ctx: StageContext, prompt: str, azimuths: list[float], seed: int) -> list[Image.Image]:
        from shared.assets.stub_views import render_views, stub_object

        solid, what = stub_object(prompt, seed)
        ctx.note(f"stub images: a {what} rendered from {len(azimuths)} azimuths")
        return render_views(solid, azimuths, self.options.size)
