"""Running one stage of a job: claim, progress, a scratch folder, timings, cancellation.

Delivery is at-least-once (late acks), so a stage may run again after a crash: it writes the
same deterministic keys, and status writes are conditional, so a re-run changes nothing that a
finished run already settled.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from shared import metrics
from shared.config import get_settings
from shared.errors import JobCanceled, MMFError, StageCrashed
from shared.jobs import JobRecord, JobStore, Status, get_job_store
from shared.jobs.base import TERMINAL
from shared.pipeline import webhooks
from shared.pipeline.cache import serve_from_cache
from shared.pipeline.context import StageContext
from shared.pipeline.steps import PROVIDER_STAGE
from shared.storage import get_object_store

log = logging.getLogger(__name__)
T = TypeVar("T")


def stage_provider(job: JobRecord, stage: str) -> str | None:
    """The provider doing the work of ``stage`` (for metrics labels); None for a stage that runs none."""
    return (job.get("providers") or {}).get(PROVIDER_STAGE.get(stage, ""))


class StageSkipped(Exception):
    """The job is already terminal (canceled, failed): this stage and the rest must not run."""


class StageAlreadyFinished(StageSkipped):
    """This stage finished in an earlier delivery: it must not run again. In a chain the rest was sent
    when it finished, so the delivery ends here; a caller running the stages itself goes on to the next."""


class Heartbeats:
    """Refreshes the ``updated_at`` of every job with a stage running in this process, every
    ``heartbeat_interval_s`` from that stage's start, even through long silent steps.

    One thread per process serves every stage: starting and joining a thread per stage cost as much
    as a quick stage's own work. The thread is started on first use in each process (a forked pool
    child starts its own).
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: dict[int, tuple[str, JobStore, float]] = {}  # per running stage: job, store, next beat
        self._runs = itertools.count()
        self._thread_pid: int | None = None

    @contextmanager
    def beating(self, jobs: JobStore, job_id: str) -> Iterator[None]:
        with self._wake:
            run = next(self._runs)
            self._due[run] = (job_id, jobs, time.monotonic() + get_settings().heartbeat_interval_s)
            if self._thread_pid != os.getpid():
                self._thread_pid = os.getpid()
                threading.Thread(target=self._beat_forever, name="heartbeats", daemon=True).start()
            self._wake.notify()
        try:
            yield
        finally:
            with self._wake:
                del self._due[run]

    def _beat_forever(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                interval = get_settings().heartbeat_interval_s
                beats = []
                for run, (job_id, jobs, due) in self._due.items():
                    if due <= now:
                        beats.append((job_id, jobs))
                        self._due[run] = (job_id, jobs, now + interval)
                if not beats:
                    next_due = min((due for _, _, due in self._due.values()), default=None)
                    self._wake.wait(None if next_due is None else next_due - now)
                    continue
            for job_id, jobs in beats:
                try:
                    jobs.touch(job_id)
                except Exception:
                    log.exception("heartbeat of job %s failed", job_id)


HEARTBEATS = Heartbeats()


def run_stage(
    job_id: str,
    stage: str,
    progress_range: tuple[int, int],
    work: Callable[[StageContext], T],
    *,
    first: bool = False,
    attempt_key: str | None = None,
    retry_number: int = 0,
) -> T:
    """Run ``work`` as stage ``stage`` of ``job_id``; the first stage claims the queued job.

    A stage counts as finished once its timing is recorded, and a finished stage never runs again:
    a delivery of it is skipped. ``work`` returning ``False`` means "not finished, run me again later"
    (a cloud job still running): no timing is recorded then.

    Every delivery that runs is counted under ``attempt_key`` (default: the stage) before the work
    starts: a message that keeps coming back because its process dies is failed after
    MAX_STAGE_DELIVERIES instead of taking workers down forever.
    """
    jobs = get_job_store()
    claimed = first and jobs.transition(job_id, Status.RUNNING, stage=stage, message=f"{stage} started")
    job = jobs.get(job_id)
    if job is None:
        raise StageSkipped(f"job {job_id} does not exist")
    if job["status"] != Status.RUNNING:
        raise StageSkipped(f"job {job_id} is {job['status']}")
    if stage in (job.get("timings") or {}):
        # A finished stage delivered again (its ack was lost, as in a warm shutdown): its successor
        # was sent when it finished, so this delivery has nothing to do.
        raise StageAlreadyFinished(f"stage {stage} of job {job_id} has already finished")
    deliveries = jobs.count_attempt(job_id, attempt_key or stage)
    limit = get_settings().max_stage_deliveries
    if deliveries > limit:
        crashed = StageCrashed(f"stage {stage} was started {deliveries - 1} times and its worker died each time")
        fail_job(job_id, crashed, stage)
        raise StageSkipped(str(crashed))
    jobs.update_progress(job_id, stage=stage, progress=progress_range[0], message=f"{stage} started")
    if claimed:
        metrics.count_job_outcome(job["kind"], Status.RUNNING.value)
        webhooks.notify(job, "started")
    webhooks.notify({**job, "stage": stage, "progress": progress_range[0]}, "progress")
    started = time.perf_counter()
    ctx = StageContext(job, stage, progress_range, jobs, get_object_store(), get_settings(), retry_number=retry_number)
    with HEARTBEATS.beating(jobs, job_id):
        try:
            if first and serve_from_cache(ctx):
                raise StageSkipped(f"job {job_id} was served from the result cache")
            result = work(ctx)
        except JobCanceled as canceled:
            raise StageSkipped(str(canceled)) from None
        finally:
            ctx.remove_scratch()
    seconds = time.perf_counter() - started
    if result is not False:
        jobs.add_timing(job_id, stage, seconds)
        metrics.observe_stage(job["kind"], stage, stage_provider(job, stage), seconds)
    return result


def public_error(exc: BaseException) -> dict[str, Any]:
    """The error as shown to clients: a type and a message, never a traceback."""
    code = exc.code if isinstance(exc, MMFError) else "internal_error"
    message = str(exc) or exc.__class__.__name__
    if exc.__class__.__name__ in ("SoftTimeLimitExceeded", "TimeLimitExceeded"):
        settings = get_settings()
        code = "time_limit"
        message = (f"the stage ran past its time limit ({settings.task_soft_time_limit_s} s soft, "
                   f"{settings.task_time_limit_s} s hard) and was stopped")
    return {"type": exc.__class__.__name__, "code": code, "message": message[:2000]}


def fail_job(job_id: str, exc: BaseException, stage: str | None = None, jobs: JobStore | None = None) -> bool:
    """Mark the job failed (unless it already ended); True when this call failed it. ``jobs``: the store
    the job is in, when not the process's own (``get_job_store``)."""
    jobs = jobs or get_job_store()
    job = jobs.get(job_id)
    if job is None or job["status"] in TERMINAL:
        return False
    error = public_error(exc)
    where = stage or job.get("stage")
    if where:
        error["stage"] = where
    log.warning("job %s failed in %s: %s", job_id, where, error["message"])
    failed = jobs.transition(job_id, Status.FAILED, error=error, message=f"failed: {error['message'][:200]}")
    if failed:
        failed_job = jobs.require(job_id)
        written = sorted(failed_job["artifacts"])
        if written:  # what the stages before the failure left: kept, and marked as an incomplete set
            jobs.add_details(job_id, {"partial_artifacts": written})
        metrics.count_job_outcome(job["kind"], Status.FAILED.value)
        if where:
            metrics.count_provider_error(where, stage_provider(job, where), error["code"])
        webhooks.notify(failed_job, "failed")  # its details (just added) are not part of a webhook
    return failed
