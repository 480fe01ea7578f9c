"""The ``env`` job: plan -> generate the scene -> finalize. Each function is one Celery stage."""

from __future__ import annotations

import json
from typing import Any

from shared.pipeline.context import StageContext
from shared.providers.registry import provider_class

PLAN_PROGRESS = (0, 10)
SCENE_PROGRESS = (10, 90)


def plan_scene(ctx: StageContext) -> None:
    """Write ``plan.json``: the caller's plan when given, else the planner's plan for the prompt."""
    request = ctx.request
    plan: dict[str, Any]
    if request.get("plan") is not None:
        plan = request["plan"]
    else:
        planner = provider_class("plan", ctx.job["providers"]["plan"])(ctx.provider_options("plan"))
        plan = planner.plan(ctx, request.get("prompt") or "", request.get("seed") or 0)
    ctx.report(0.9, "plan ready")
    ctx.put_artifact("plan.json", json.dumps(plan, indent=2, sort_keys=True).encode(), "application/json")


def generate_scene(ctx: StageContext) -> None:
    """Hand the plan to the chosen env provider, which writes ``scene.glb`` (and a thumbnail)."""
    plan = ctx.read_json_artifact("plan.json")
    generator = provider_class("env", ctx.job["providers"]["env"])(ctx.provider_options("env"))
    generator.generate(ctx, plan)
