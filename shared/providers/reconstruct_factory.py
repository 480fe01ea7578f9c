"""The factory's exact mesh for text_to_3d: rebuilt from the spec the ``factory`` images provider stored.

Deterministic: the same spec gives the same parts, materials and bytes, so the model is the object
the views show, not an approximation carved from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from shared.errors import ProviderError
from shared.providers.base import Reconstructor

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.pipeline.context import StageContext


class FactoryReconstructor(Reconstructor):
    name = "factory"
    needs: ClassVar[dict[str, str]] = {"images": "factory"}

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Scene:
        from shared.assets.factory import SPEC_ARTIFACT, spec_from_artifact
        from shared.objects.base import build
        from shared.pipeline.context import job_key

        if not ctx.objects.exists(job_key(ctx.job_id, SPEC_ARTIFACT)):
            raise ProviderError(
                f"the factory reconstructor rebuilds {SPEC_ARTIFACT}, which the factory images "
                "provider writes; this job has none"
            )
        try:
            spec = spec_from_artifact(ctx.read_json_artifact(SPEC_ARTIFACT))
        except (KeyError, TypeError, ValueError) as error:
            raise ProviderError(f"{SPEC_ARTIFACT} is not a factory spec this server reads: {error}") from None
        model = build(spec)
        ctx.note(
            f"factory reconstruct: the {spec.category.replace('_', ' ')} rebuilt from its spec, "
            f"{len(model.parts)} named parts"
        )
        return model.to_scene()
