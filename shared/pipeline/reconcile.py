"""Make the job store and the broker agree again: nothing stays ``queued`` or ``running`` forever.

Two cases, both judged against what the broker actually holds (waiting messages and the ones a
worker has taken but not acknowledged):
- a job still ``queued`` whose tasks the broker no longer has (Redis lost them, say in a restart)
  is sent again; its first stage's conditional claim makes a duplicate delivery harmless;
- a ``running`` job with no heartbeat for ``STALE_RUNNING_AFTER_S`` whose tasks are nowhere in the
  broker has nothing left to move it (its worker died with the message, or Redis lost the message of
  its next stage): it is sent again from its first unfinished stage. A stage that keeps killing its
  worker is still bounded, by ``MAX_STAGE_DELIVERIES``.

Jobs that do not run as their kind's chain (S3 workflow items, sent inside one workflow task) cannot
be re-sent from the store alone: when their message is lost they are failed with ``worker_lost``.

Runs as the periodic task ``orchestrator.reconcile`` (celery beat) and as
``python -m shared.pipeline.reconcile``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from shared import queues
from shared.config import Settings, get_settings
from shared.errors import WorkerLost
from shared.jobs import JobRecord, JobStore, Status
from shared.pipeline import chains
from shared.pipeline.runner import fail_job

log = logging.getLogger(__name__)
PAGE = 500


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)


def broker_task_ids(redis) -> set[str]:
    """Ids of every task message Redis holds: waiting in a queue, or delivered but not yet acked."""
    ids: set[str] = set()
    for queue in queues.ALL_QUEUES:
        for raw in redis.lrange(queue, 0, -1):
            ids.add(json.loads(raw)["headers"]["id"])
    for raw in redis.hvals("unacked"):
        ids.add(json.loads(raw)[0]["headers"]["id"])
    return ids


def _older_than(timestamp: str, seconds: float, now: datetime) -> bool:
    return datetime.fromisoformat(timestamp) < now - timedelta(seconds=seconds)


def _jobs_with_status(jobs: JobStore, status: Status) -> list[JobRecord]:
    found, offset = [], 0
    while page := jobs.list(status=status.value, limit=PAGE, offset=offset):
        found.extend(page)
        offset += PAGE
    return found


def reconcile(jobs: JobStore, app, redis, settings: Settings | None = None,
              now: datetime | None = None) -> ReconcileReport:
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    in_broker = broker_task_ids(redis)
    report = ReconcileReport()
    for job in _jobs_with_status(jobs, Status.QUEUED):
        if _older_than(job["created_at"], settings.reconcile_queued_after_s, now) and \
                not in_broker.intersection(job["celery_task_ids"]):
            if chains.is_pipeline_job(job):
                chains.enqueue(app, job)
                report.requeued.append(job["job_id"])
            elif fail_job(job["job_id"], WorkerLost("its task message was lost from the broker; submit it again")):
                report.failed.append(job["job_id"])
    for job in _jobs_with_status(jobs, Status.RUNNING):
        if _older_than(job["updated_at"], settings.stale_running_after_s, now) and \
                not in_broker.intersection(job["celery_task_ids"]):
            start = chains.resume_index(job) if chains.is_pipeline_job(job) else None
            if start is not None:
                chains.enqueue(app, job, start=start)
                report.resumed.append(job["job_id"])
                continue
            lost = WorkerLost(f"no heartbeat from stage {job['stage']} for {settings.stale_running_after_s:.0f}s "
                              "and its task is gone from the broker")
            if fail_job(job["job_id"], lost):
                report.failed.append(job["job_id"])
    if report.requeued or report.resumed or report.failed:
        log.warning("reconciled: requeued %s, resumed %s, failed %s", report.requeued, report.resumed, report.failed)
    return report


def main() -> int:
    from shared.broker import get_redis
    from shared.celery_app import app
    from shared.jobs import get_job_store

    report = reconcile(get_job_store(), app, get_redis())
    print(json.dumps(report.as_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
