"""Orchestrator tasks: plan an environment and finalize any job (steps of ``shared.pipeline.steps``), record
a failed one, re-send lost jobs, deliver webhooks."""

from __future__ import annotations

from typing import Any

from shared.broker import get_redis
from shared.celery_app import app
from shared.config import get_settings
from shared.errors import MMFError
from shared.jobs import get_job_store
from shared.jobs.base import utcnow
from shared.pipeline import webhooks
from shared.pipeline.reconcile import reconcile
from shared.pipeline.runner import fail_job
from workers.stage_task import define_stage_tasks

TASKS = define_stage_tasks(app, "orchestrator")  # plan and finalize, from shared.pipeline.steps


@app.task(name="orchestrator.reconcile", ignore_result=True)
def reconcile_jobs() -> dict[str, list[str]]:
    """Periodic (celery beat): re-send jobs whose messages the broker lost (``shared.pipeline.reconcile``)."""
    return reconcile(get_job_store(), app, get_redis()).as_dict()


@app.task(name="orchestrator.deliver_webhook", bind=True, ignore_result=True, acks_late=True)
def deliver_webhook(self, job_id: str, url: str, message_id: str, payload: dict[str, Any]) -> None:
    """One event to one receiver: retried with doubling delays until a 2xx or WEBHOOK_MAX_ATTEMPTS."""
    settings = get_settings()
    attempt = self.request.retries + 1
    entry: dict[str, Any] = {"event": payload["type"], "message_id": message_id, "attempt": attempt, "at": utcnow()}
    try:
        status = webhooks.deliver(url, message_id, payload, settings)
        entry.update(status=status, ok=200 <= status < 300)
    except MMFError as error:
        entry.update(status=None, ok=False, error=str(error)[:300])
    get_job_store().log_webhook(job_id, entry)
    if not entry["ok"] and attempt < settings.webhook_max_attempts:
        raise self.retry(countdown=settings.webhook_backoff_s * 2 ** (attempt - 1),
                         max_retries=settings.webhook_max_attempts - 1)


@app.task(name="orchestrator.mark_failed")
def mark_failed(request: Any, exc: BaseException, traceback: Any, job_id: str) -> None:
    """Error callback of every chain (called in the failing worker with the exception itself)."""
    fail_job(job_id, exc)
