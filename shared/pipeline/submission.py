"""Recording and sending new jobs in batches, for an API that takes thousands of submissions a second.

Two costs dominated a submission: a SQLite commit and a Redis round trip per job, and Celery building
each message (signatures, routing, reprs, serialising twice). So:

- ``Submissions`` gathers the jobs submitted while the previous batch was being written and writes
  them as one batch: one transaction, one Redis pipeline, one thread hop. At low load a batch is a
  single job and waits for nothing.
- ``JobSender`` sends a job's chain from a ``MessageTemplate``: what Celery sent for the first job of
  that kind and set of providers, captured instead of pushed, with the job id (and each message's
  delivery tag) as holes to fill. Every field still comes from Celery; ``tests/test_submission.py``
  checks a rendered message against the one Celery builds for the same job.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from celery import Celery

from shared import broker_transport, metrics
from shared.jobs import DuplicateJob, JobRecord, JobStore, Status
from shared.pipeline import chains
from shared.pipeline.runner import fail_job

log = logging.getLogger(__name__)


class NotSent(Exception):
    """The job was recorded but its chain could not be sent (it is marked failed)."""


class MessageTemplate:
    """The messages ``chains.enqueue`` sends for one job, with the job id left as a hole.

    Built from messages captured for a placeholder job id (random, so it occurs nowhere else). A
    payload is kombu's JSON envelope around the base64 task body; both hold the job id, so each
    message keeps the body split at the id and the envelope split at the id, the body and the
    delivery tag (kombu's per-message uuid).
    """

    def __init__(self, captured: list[tuple[str, str]], placeholder: str) -> None:
        self.placeholder, self.body_hole = placeholder, uuid.uuid4().hex
        self.messages: list[tuple[str, list[str], str, list[str]]] = []
        for key, payload in captured:
            envelope = json.loads(payload)
            body = base64.b64decode(envelope["body"]).decode()
            envelope["body"] = self.body_hole
            tag = envelope["properties"]["delivery_tag"]
            holes = "|".join(re.escape(hole) for hole in (placeholder, self.body_hole, tag))
            pieces = re.split(f"({holes})", broker_transport.dumps(envelope))
            self.messages.append((key, body.split(placeholder), tag, pieces))

    def render(self, job_id: str) -> list[tuple[str, str]]:
        """``(list key, payload)`` of each message for ``job_id``, each with a delivery tag of its own."""
        rendered = []
        for key, body_pieces, tag, pieces in self.messages:
            fill = {
                self.placeholder: job_id,
                self.body_hole: base64.b64encode(job_id.join(body_pieces).encode()).decode(),
                tag: str(uuid.uuid4()),
            }
            # re.split with a group: the holes are at the odd indices.
            rendered.append((key, "".join(fill[piece] if i % 2 else piece for i, piece in enumerate(pieces))))
        return rendered


class JobSender:
    """Sends new jobs' chains for one Celery app, a batch at a time in one Redis round trip.

    From templates when the app's transport is ours (``shared.broker_transport``); through Celery in
    one kombu publish batch otherwise (another broker URL scheme, a test's app).
    """

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._templates: dict[tuple[str, tuple[tuple[str, str], ...]], MessageTemplate] = {}

    def template(self, job: JobRecord) -> MessageTemplate:
        key = (job["kind"], tuple(sorted(job["providers"].items())))
        template = self._templates.get(key)
        if template is None:
            placeholder = uuid.uuid4().hex
            with broker_transport.captured_messages() as captured:
                chains.enqueue(self.app, {**job, "job_id": placeholder})
            template = self._templates[key] = MessageTemplate(captured, placeholder)
        return template

    def send(self, jobs: list[JobRecord]) -> None:
        if not jobs:
            return
        with self.app.producer_or_acquire() as producer:
            channel = producer.connection.default_channel
            if isinstance(channel, broker_transport.Channel):
                channel.push_payloads([message for job in jobs for message in self.template(job).render(job["job_id"])])
                return
            with producer.batch():
                for job in jobs:
                    chains.enqueue(self.app, job, producer=producer)


def record_and_send(jobs: JobStore, sender: JobSender, batch: list[JobRecord]) -> list[Exception | None]:
    """Record new jobs (one transaction for those without an idempotency key) and send the chains of
    those recorded (one round trip). Per job, None or why it was not started: ``DuplicateJob`` for a
    repeated idempotency key (carrying the earlier job), ``NotSent`` when the broker refused, or the
    store's error when it could not be recorded (then it was not sent either: no job is left queued
    with nobody told)."""
    outcomes: list[Exception | None] = [None] * len(batch)
    plain = [index for index, job in enumerate(batch) if not job.get("idempotency_key")]
    try:
        jobs.create_many([batch[index] for index in plain])
    except Exception as exc:
        log.exception("could not record %d jobs", len(plain))
        for index in plain:
            outcomes[index] = exc
    for index, job in enumerate(batch):
        if job.get("idempotency_key"):
            try:
                jobs.create(job)
            except DuplicateJob as duplicate:
                outcomes[index] = duplicate
            except Exception as exc:
                log.exception("could not record job %s", job["job_id"])
                outcomes[index] = exc
    new = [job for job, outcome in zip(batch, outcomes, strict=True) if outcome is None]
    try:
        sender.send(new)
    except Exception as exc:
        log.exception("could not send %d jobs", len(new))
        for job in new:
            fail_job(job["job_id"], exc, stage="queued", jobs=jobs)
        return [outcome or NotSent(str(exc)) for outcome in outcomes]
    for kind, count in Counter(job["kind"] for job in new).items():
        metrics.count_job_outcome(kind, Status.QUEUED.value, jobs=count)
    return outcomes


class Submissions:
    """Group commit for new jobs: the first submission starts a writer that takes, batch after batch,
    whatever has arrived, and writes it in a worker thread (``record_and_send``) while the event loop
    goes on taking requests. One writer at a time per process.

    Before taking a batch the writer lets the event loop run a few passes: requests already read but
    not yet at ``submit`` join this batch instead of the next, so a batch's fixed cost (a commit, a
    round trip, a thread hop) is shared by more jobs (``docs/architecture.md`` has the measurement). A
    lone submission waits for nothing but the passes themselves.
    """

    gather_passes = 8

    def __init__(self, jobs: JobStore, sender: JobSender) -> None:
        self.jobs, self.sender = jobs, sender
        # One thread of its own: batches are written one at a time anyway, and it keeps one store
        # connection (SQLite's are per thread) without anyio's per-call limiter and cancel scope.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mmf-submissions")
        self._waiting: list[tuple[JobRecord, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def _gather(self) -> None:
        for _ in range(self.gather_passes):
            await asyncio.sleep(0)

    async def submit(self, job: JobRecord) -> None:
        """Return once ``job`` is recorded and sent; raise ``DuplicateJob`` or ``NotSent`` as above."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((job, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        await future

    async def _write_batches(self) -> None:
        while self._waiting:
            await self._gather()
            batch, self._waiting = self._waiting, []
            try:
                outcomes = await asyncio.get_running_loop().run_in_executor(
                    self._thread, record_and_send, self.jobs, self.sender, [job for job, _ in batch])
            except Exception as exc:  # not one of the per-job outcomes: every request of the batch sees it
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the client went away; its job was recorded and sent all the same
                    continue
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)
