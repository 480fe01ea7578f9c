"""Phrase rules turn a prompt into a ScenePlan: instant, offline, reproducible from prompt and seed."""

from __future__ import annotations

from typing import Any

from shared.providers.base import Planner


class RulesPlanner(Planner):
    name = "rules"
    version = "1"

    def plan(self, ctx, prompt: str, seed: int) -> dict[str, Any]:
        from shared.envgen.rules import plan_from_prompt

        return plan_from_prompt(prompt, seed).model_dump(mode="json")
