"""The job-store contract: records keyed by job id whose status only moves forward.

Every status change is one conditional write ("set X where status is one of the allowed
predecessors"), so concurrent writers in different processes can never move a job backwards or
overwrite a terminal status; no backend reads, decides in Python, then writes.
"""

from __future__ import annotations

import secrets
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypedDict


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELED})

PREDECESSORS: dict[Status, tuple[Status, ...]] = {
    Status.QUEUED: (),
    Status.RUNNING: (Status.QUEUED,),
    Status.COMPLETED: (Status.RUNNING,),
    Status.FAILED: (Status.QUEUED, Status.RUNNING),
    Status.CANCELED: (Status.QUEUED, Status.RUNNING),
}

JSON_FIELDS = frozenset((
    "error", "request", "providers", "artifacts", "celery_task_ids", "timings", "notes", "attempts", "details",
    "webhooks",
))


class DuplicateJob(Exception):
    """A job with the same owner and idempotency key exists: ``job``, as the store found it."""

    def __init__(self, job: JobRecord) -> None:
        super().__init__(job["job_id"])
        self.job = job

    @property
    def job_id(self) -> str:
        return self.job["job_id"]


class JobRecord(TypedDict):
    """A job as every store keeps it and every stage, route and tool reads it."""

    job_id: str
    kind: str
    status: str
    """A ``Status`` value."""
    stage: str | None
    """The stage running now, or the last one that ran."""
    progress: int
    """0-100, only ever growing while the job runs."""
    message: str
    error: dict[str, Any] | None
    """``{"code", "message", "stage"}`` of a failed job."""
    request: dict[str, Any]
    """The request as intake prepared it (keys, not URLs or upload ids)."""
    providers: dict[str, str]
    """The provider of each provider stage, defaults filled in."""
    artifacts: dict[str, dict[str, Any]]
    """By name: ``{"key", "bytes", "sha256", "content_type"}``."""
    timings: dict[str, float]
    notes: list[str]
    attempts: dict[str, int]
    details: dict[str, Any]
    webhooks: list[dict[str, Any]]
    celery_task_ids: list[str]
    owner: str
    idempotency_key: str | None
    cache_key: str | None
    request_hash: str | None
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None


def new_job_id() -> str:
    """An unguessable id, safe as an object-key segment: 32 hex digits, a millisecond timestamp (12)
    then 80 random bits (20).

    Time first so that new ids sort after older ones: the job store's primary-key index then grows at
    its end instead of at a random page per insert (``docs/architecture.md`` has the measurement)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_job_record(
    kind: str,
    request: dict[str, Any],
    providers: dict[str, str],
    *,
    owner: str = "",
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    job_id: str | None = None,
) -> JobRecord:
    now = utcnow()
    return {
        "job_id": job_id or new_job_id(),
        "kind": kind,
        "status": Status.QUEUED.value,
        "stage": None,
        "progress": 0,
        "message": "queued",
        "error": None,
        "request": request,
        "providers": providers,
        "artifacts": {},
        "timings": {},
        "notes": [],
        "attempts": {},
        "details": {},
        "webhooks": [],
        "celery_task_ids": [],
        "owner": owner,
        "idempotency_key": idempotency_key,
        "cache_key": None,
        "request_hash": request_hash,
        "created_at": now,
        "updated_at": now,
        "started_at": None,
        "completed_at": None,
    }


class JobStore(ABC):
    """Where the status of record lives (never the Celery result backend)."""

    @abstractmethod
    def create(self, record: JobRecord) -> None:
        """Insert a new record; raise ``DuplicateJob`` on a repeated (owner, idempotency key)."""

    @abstractmethod
    def create_many(self, records: list[JobRecord]) -> int:
        """Insert, in one round trip, those of ``records`` whose job id is not recorded yet; how many.

        For batch submissions (no record carries an idempotency key). Existing records are left as
        they are, so a redelivered batch whose first write was cut short completes it.
        """

    @abstractmethod
    def get(self, job_id: str) -> JobRecord | None: ...

    def require(self, job_id: str) -> JobRecord:
        """The record of a job known to exist (job records are never deleted); a missing one is a bug."""
        job = self.get(job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        return job

    @abstractmethod
    def update_document(self, collection: str, doc_id: str, fields: dict[str, Any], *, create: bool = False) -> bool:
        """Set ``fields`` on the document ``doc_id`` of a caller's collection; False when there is none.

        The S3 batch workflow records its results on the caller's own documents (``model_s3_url``, …),
        apart from the job records. A missing document is created only with ``create=True``: an id
        that names nothing is the caller's mistake (a typo, another collection), and a document made
        beside theirs would hide it while theirs never changes.
        """

    @abstractmethod
    def get_document(self, collection: str, doc_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def find_by_idempotency_key(self, owner: str, key: str) -> JobRecord | None: ...

    @abstractmethod
    def list(
        self,
        *,
        owner: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[JobRecord]:
        """Newest first."""

    @abstractmethod
    def transition(self, job_id: str, to: Status, **fields: Any) -> bool:
        """Move to ``to`` if the current status allows it, setting ``fields`` too; False if not."""

    @abstractmethod
    def update_progress(self, job_id: str, *, stage: str, progress: int, message: str) -> bool:
        """Record progress of a running job; never lowers ``progress``; False if not running."""

    @abstractmethod
    def set_cache_key(self, job_id: str, cache_key: str) -> None: ...

    @abstractmethod
    def find_completed_by_cache_key(self, owner: str, cache_key: str) -> JobRecord | None:
        """The newest completed job of ``owner`` with this content address, if any."""

    @abstractmethod
    def touch(self, job_id: str) -> None:
        """Heartbeat: refresh ``updated_at`` of a running job so the reconciler knows its worker lives."""

    @abstractmethod
    def add_artifacts(self, job_id: str, artifacts: dict[str, dict[str, Any]]) -> None:
        """Merge ``name -> object info`` into the job's artifacts."""

    @abstractmethod
    def add_timing(self, job_id: str, stage: str, seconds: float) -> None: ...

    @abstractmethod
    def add_details(self, job_id: str, details: dict[str, Any]) -> None:
        """Merge facts about the result (counts, bounds, QA) that the manifest's ``details`` carries."""

    @abstractmethod
    def count_attempt(self, job_id: str, key: str) -> int:
        """Atomically add one to the job's counter ``key`` and return the new value (0: no such job)."""

    @abstractmethod
    def log_webhook(self, job_id: str, entry: dict[str, Any]) -> None:
        """Append one webhook delivery attempt (event, attempt, status, error) to the job's log."""

    @abstractmethod
    def add_note(self, job_id: str, note: str) -> None:
        """Append a provenance note (a fallback taken, a limit applied) that the manifest carries."""

    @abstractmethod
    def ping(self) -> None:
        """Raise when the store cannot be reached (used by ``/ready``)."""

    @staticmethod
    def transition_fields(to: Status, fields: dict[str, Any]) -> dict[str, Any]:
        now = utcnow()
        values = {**fields, "status": to.value, "updated_at": now}
        if to is Status.RUNNING:
            values["started_at"] = now
        if to in TERMINAL:
            values["completed_at"] = now
        return values
