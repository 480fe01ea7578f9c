"""An LLM writes the ScenePlan; the rules planner stands in whenever the LLM cannot.

A job must not fail because a language model is down, slow or wrong: any failure falls back to
the deterministic rules planner, and a provenance note says which planner really made the plan.
"""

from __future__ import annotations

from typing import Any

from shared.providers.base import Planner
from shared.providers.registry import provider_class


class LLMPlanner(Planner):
    name = "llm"

    def plan(self, ctx, prompt: str, seed: int) -> dict[str, Any]:
        from shared.envgen.llm_client import LLMPlanError, request_plan

        settings = ctx.settings
        ctx.report(0.1, "asking the LLM for a plan")
        try:
            result = request_plan(settings, prompt, seed)
        except LLMPlanError as exc:
            ctx.note(f"llm planner: {exc}; fell back to rules")
            return provider_class("plan", "rules")().plan(ctx, prompt, seed)
        repaired = " after one repair" if result.repaired else ""
        ctx.note(f"llm planner: plan by model {settings.llm.model}{repaired}")
        return result.plan.model_dump(mode="json")
