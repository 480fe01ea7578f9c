"""The ``env`` job: plan -> generate the scene -> finalize. Each function is one Celery stage."""

from __future__ import annotations

import json
from typing import Any

from shared.errors import InvalidPlan, validation_detail
from shared.pipeline import steps
from shared.pipeline.context import StageContext
from shared.providers import registry
from shared.providers.base import EnvGenerator, Planner

PLAN_PROGRESS = steps.PLAN.progress
SCENE_PROGRESS = steps.GENERATE_SCENE.progress


def validated_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """A client's plan checked against ScenePlan and normalised; errors list the field paths."""
    from pydantic import ValidationError

    from shared.schemas.scene_plan import ScenePlan

    try:
        return ScenePlan.model_validate(plan).model_dump(mode="json")
    except ValidationError as error:
        raise InvalidPlan("the plan is not a valid ScenePlan", validation_detail(error)) from None


def plan_scene(ctx: StageContext) -> None:
    """Write ``plan.json``: the caller's plan when given, else the planner's plan for the prompt."""
    request = ctx.request
    plan: dict[str, Any]
    if request.get("plan") is not None:
        plan = request["plan"]
    else:
        planner = registry.create(Planner, ctx.job["providers"]["plan"], ctx.provider_options("plan"))
        plan = planner.plan(ctx, request.get("prompt") or "", request.get("seed") or 0)
    ctx.report(0.9, "plan ready")
    ctx.put_artifact("plan.json", json.dumps(plan, indent=2, sort_keys=True).encode(), "application/json")


def generate_scene(ctx: StageContext) -> None:
    """Hand the plan to the chosen env provider, which writes ``scene.glb`` (and a thumbnail)."""
    plan = ctx.read_json_artifact("plan.json")
    generator = registry.create(EnvGenerator, ctx.job["providers"]["env"], ctx.provider_options("env"))
    generator.generate(ctx, plan)
