"""Orchestrator tasks: plan an environment, finalize any job, record a failed one."""

from __future__ import annotations

from typing import Any

from shared.celery_app import app
from shared.pipeline import env
from shared.pipeline.finalize import FINALIZE_PROGRESS, finalize
from shared.pipeline.runner import fail_job
from workers.stage_task import run_stage_task


@app.task(name="orchestrator.plan", bind=True)
def plan(self, job_id: str) -> None:
    run_stage_task(self, job_id, "planning", env.PLAN_PROGRESS, env.plan_scene, first=True)


@app.task(name="orchestrator.finalize", bind=True)
def finalize_job(self, job_id: str) -> dict[str, Any]:
    return run_stage_task(self, job_id, "finalizing", FINALIZE_PROGRESS, finalize)


@app.task(name="orchestrator.mark_failed")
def mark_failed(request: Any, exc: BaseException, traceback: Any, job_id: str) -> None:
    """Error callback of every chain (called in the failing worker with the exception itself)."""
    fail_job(job_id, exc)
