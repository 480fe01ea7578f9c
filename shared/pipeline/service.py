"""Creating and canceling jobs: the one place that does it, for every way in.

``POST /v1/generations`` and the reference's ``/3d/*`` routes call ``submit_job``; the S3 workflow,
whose tasks run a picture's stages themselves, calls ``new_job``; cancel routes call ``cancel_job``.
The CLI (batch included) goes through the HTTP routes. So validation, provider resolution, the
request check and the record's shape are the same whoever asks, and the errors are ours
(``shared.errors``), which the API maps to its codes.
"""

from __future__ import annotations

import hashlib
import json

from starlette.concurrency import run_in_threadpool

from shared import metrics
from shared.config import Settings
from shared.errors import IdempotencyConflict, JobFinished, PromptTooLong, QueueUnavailable
from shared.jobs import DuplicateJob, JobRecord, JobStore, Status
from shared.jobs.base import TERMINAL, new_job_record
from shared.pipeline import chains, webhooks
from shared.pipeline.intake import prepare_request, touches_stores
from shared.pipeline.submission import NotSent, Submissions
from shared.schemas.api import JobCreate
from shared.storage import get_object_store

# Request fields added after keys were first bound to requests: left out of the hash while unset, so a
# key sent before the field existed still matches the same request sent again after.
LATER_FIELDS = frozenset({"with_texture"})


def request_hash(body: JobCreate) -> str:
    """What an ``Idempotency-Key`` is bound to: the request as validated, in a canonical form."""
    unset = {name for name in LATER_FIELDS if getattr(body, name) is None}
    document = body.model_dump(mode="json", exclude=unset)
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _providers(body: JobCreate, settings: Settings) -> dict[str, str]:
    """The checks that need no store (they run on the event loop): the prompt's length, then every stage's
    provider, defaults filled in and options validated."""
    if body.prompt is not None and len(body.prompt) > settings.max_prompt_chars:
        raise PromptTooLong(f"prompt is longer than {settings.max_prompt_chars} characters")
    return chains.resolve_providers(body.kind, body.providers, body.options, settings)


def _record(body: JobCreate, providers: dict[str, str], settings: Settings, owner: str,
            idempotency_key: str | None, job_id: str | None = None) -> JobRecord:
    """The queued record: the request prepared (references resolved, which may touch the stores) and looked
    at by the providers that check requests at submit."""
    request = prepare_request(body, get_object_store(), settings)
    if chains.checks_request(providers):
        chains.check_request(providers, request, settings)
    job = new_job_record(body.kind, request, providers, owner=owner, idempotency_key=idempotency_key,
                         request_hash=request_hash(body) if idempotency_key else None, job_id=job_id)
    job["celery_task_ids"] = chains.task_ids(body.kind, job["job_id"])
    return job


async def submit_job(body: JobCreate, settings: Settings, submissions: Submissions, owner: str,
                     idempotency_key: str | None) -> tuple[JobRecord, bool]:
    """The job ``body`` asks for, recorded and sent, and False; or, for an ``Idempotency-Key`` used
    before with the same request, the earlier job and True.

    The job is recorded and sent in one batch with others arriving meanwhile (``Submissions``). This is
    the API's hot path: the record is made on the event loop unless it may wait on the stores or the
    network (uploads, URLs) or a provider looks at the request (which may import a mesh library), and
    then in one thread hop.
    """
    providers = _providers(body, settings)
    if touches_stores(body) or chains.checks_request(providers):
        job = await run_in_threadpool(_record, body, providers, settings, owner, idempotency_key)
    else:
        job = _record(body, providers, settings, owner, idempotency_key)
    try:
        await submissions.submit(job)
    except DuplicateJob as duplicate:
        if duplicate.job["request_hash"] != job["request_hash"]:
            raise IdempotencyConflict("this Idempotency-Key was used with a different request") from None
        return duplicate.job, True
    except NotSent:
        raise QueueUnavailable("the job queue is unavailable; the job was not started") from None
    return job, False


def new_job(body: JobCreate, settings: Settings, *, owner: str = "", job_id: str | None = None) -> JobRecord:
    """A queued record of the job ``body`` asks for, validated like ``submit_job``'s, for a caller that
    records it and runs its stages itself (the S3 workflow). Raises ``InvalidRequest`` for a bad one."""
    return _record(body, _providers(body, settings), settings, owner, None, job_id=job_id)


def cancel_job(jobs: JobStore, job_id: str) -> JobRecord:
    """Cancel a queued or running job (its remaining stages see the status and do not run); the job as
    it is now. ``JobFinished`` when it had already ended another way."""
    canceled = jobs.transition(job_id, Status.CANCELED, message="canceled by the client")
    job = jobs.require(job_id)
    if canceled:
        metrics.count_job_outcome(job["kind"], Status.CANCELED.value)
    elif job["status"] in TERMINAL:
        raise JobFinished(f"job is already {job['status']}")
    webhooks.notify(job, "canceled")
    return job
