"""Orchestrator tasks: plan an environment, finalize any job, record a failed one."""

from __future__ import annotations

from typing import Any

from shared.broker import get_redis
from shared.celery_app import app
from shared.jobs import get_job_store
from shared.pipeline import env
from shared.pipeline.finalize import FINALIZE_PROGRESS, finalize
from shared.pipeline.reconcile import reconcile
from shared.pipeline.runner import fail_job
from workers.stage_task import run_stage_task


@app.task(name="orchestrator.plan", bind=True)
def plan(self, job_id: str) -> None:
    run_stage_task(self, job_id, "planning", env.PLAN_PROGRESS, env.plan_scene, first=True)


@app.task(name="orchestrator.finalize", bind=True)
def finalize_job(self, job_id: str) -> dict[str, Any]:
    return run_stage_task(self, job_id, "finalizing", FINALIZE_PROGRESS, finalize)


@app.task(name="orchestrator.reconcile", ignore_result=True)
def reconcile_jobs() -> dict[str, list[str]]:
    """Periodic (celery beat): re-send jobs the broker lost, fail running jobs whose worker vanished."""
    report = reconcile(get_job_store(), app, get_redis())
    return {"requeued": report.requeued, "failed": report.failed}


@app.task(name="orchestrator.mark_failed")
def mark_failed(request: Any, exc: BaseException, traceback: Any, job_id: str) -> None:
    """Error callback of every chain (called in the failing worker with the exception itself)."""
    fail_job(job_id, exc)
