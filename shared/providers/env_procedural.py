"""Procedural environments on the CPU: seeded terrain and parametric props from a ScenePlan."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import queues
from shared.envgen import DEFAULT_GLB_BUDGET_BYTES, MAX_GLB_BUDGET_BYTES, MIN_GLB_BUDGET_BYTES
from shared.errors import ProviderError
from shared.providers.base import EnvGenerator
from shared.schemas.scene_plan import ScenePlan


class ProceduralOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    glb_budget_bytes: int = Field(DEFAULT_GLB_BUDGET_BYTES, ge=MIN_GLB_BUDGET_BYTES, le=MAX_GLB_BUDGET_BYTES,
                                  description="largest scene.glb to write; detail is reduced to fit")


class ProceduralEnvGenerator(EnvGenerator):
    name = "procedural"
    version = "1"
    queue = queues.CPU
    Options = ProceduralOptions

    def generate(self, ctx, plan: dict[str, Any]) -> None:
        from shared.envgen.procedural import build_scene, put_scene

        try:
            scene_plan = ScenePlan.model_validate(plan)
        except ValidationError as exc:
            raise ProviderError(f"the plan is not a valid ScenePlan: {exc}") from None
        ctx.report(0.05, f"building a {scene_plan.setting} scene")
        glb, info = build_scene(scene_plan, self.options.glb_budget_bytes,
                                progress=lambda fraction, message: ctx.report(0.05 + 0.5 * fraction, message))
        placed, requested = sum(info["placed"].values()), sum(info["requested"].values())
        summary = f"scene built: {placed} of {requested} props placed, {info['triangles']} triangles, {len(glb)} bytes"
        put_scene(ctx, scene_plan, glb, info, summary, at=0.6)
