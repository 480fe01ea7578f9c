"""The adapter every stage task uses: run a ``shared.pipeline`` function as one Celery task."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from celery import Task, states
from celery.exceptions import Ignore

from shared.config import get_settings
from shared.errors import is_transient
from shared.pipeline.context import StageContext
from shared.pipeline.runner import StageSkipped, run_stage

log = logging.getLogger(__name__)


def run_stage_task(
    task: Task,
    job_id: str,
    stage: str,
    progress_range: tuple[int, int],
    work: Callable[[StageContext], Any],
    *,
    first: bool = False,
) -> Any:
    """Run the stage; a job that already ended makes the task (and so the chain) stop quietly.

    A skipped stage leaves an ``IGNORED`` result with the reason, so "it never ran" can be told
    apart from "it has not run yet".
    """
    retries = task.request.retries or 0
    attempt_key = f"{stage}#{retries}" if retries else stage
    try:
        return run_stage(job_id, stage, progress_range, work, first=first, attempt_key=attempt_key,
                         retry_number=retries)
    except StageSkipped as skipped:
        log.info("stage %s of job %s skipped: %s", stage, job_id, skipped)
        task.backend.store_result(task.request.id, {"skipped": str(skipped)}, states.IGNORED, request=task.request)
        raise Ignore() from None
    except Exception as exc:
        settings = get_settings()
        if is_transient(exc) and retries < settings.transient_max_retries:
            countdown = min(settings.transient_backoff_s * 2**retries, 600) * random.uniform(0.8, 1.2)
            raise task.retry(exc=exc, countdown=countdown, max_retries=settings.transient_max_retries) from exc
        raise
