"""The adapter every stage task uses: run a ``shared.pipeline`` function as one Celery task; and the
stage tasks themselves, defined from the step table (``shared.pipeline.steps``)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from celery import Celery, Task, states
from celery.exceptions import Ignore

from shared.config import get_settings
from shared.errors import is_transient
from shared.pipeline.context import StageContext
from shared.pipeline.runner import StageSkipped, run_stage
from shared.pipeline.steps import FIRST_STEPS, STEPS, Step

log = logging.getLogger(__name__)


def run_stage_task(
    task: Task,
    job_id: str,
    stage: str,
    progress_range: tuple[int, int],
    work: Callable[[StageContext], Any],
    *,
    first: bool = False,
    transient_faults: int | None = None,
) -> Any:
    """Run the stage; a job that already ended makes the task (and so the chain) stop quietly.

    A skipped stage leaves an ``IGNORED`` result with the reason, so "it never ran" can be told
    apart from "it has not run yet". A transient fault re-sends the task with backoff, up to
    ``TRANSIENT_MAX_RETRIES`` faults: counted by the task's retries, or, for a task that also retries
    for another reason (the cloud task's polls), by its ``transient_faults`` argument, which this
    re-send raises by one.
    """
    retries = task.request.retries or 0
    faults = retries if transient_faults is None else transient_faults
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
        if is_transient(exc) and faults < settings.transient_max_retries:
            countdown = min(settings.transient_backoff_s * 2**faults, 600) * random.uniform(0.8, 1.2)
            if transient_faults is None:
                raise task.retry(exc=exc, countdown=countdown, max_retries=settings.transient_max_retries) from exc
            kwargs = {**(task.request.kwargs or {}), "transient_faults": faults + 1}
            raise task.retry(exc=exc, countdown=countdown, kwargs=kwargs) from exc
        raise


def define_stage_tasks(app: Celery, group: str) -> dict[str, Task]:
    """Register the task of every step whose task is in ``group`` (``<group>.<name>``), by task name.

    Each runs its step's function over its progress range; the first step of a job kind claims the job.
    """
    return {step.task: _stage_task(app, step) for step in STEPS if step.task.partition(".")[0] == group}


def _stage_task(app: Celery, step: Step) -> Task:
    first = step in FIRST_STEPS

    def run(task: Task, job_id: str) -> Any:
        return run_stage_task(task, job_id, step.stage, step.progress, step.function(), first=first)

    run.__name__ = run.__qualname__ = step.task.partition(".")[2]
    return app.task(name=step.task, bind=True)(run)
