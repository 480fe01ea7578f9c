"""``GET /v1/generations/{id}/events``: Server-Sent Events of status, stage and progress.

Each change is one ``status`` event; idle streams get a comment as heartbeat; the stream ends
after the event that carries a terminal status. Clients that lose the stream reconnect or poll.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from apps.api import deps
from apps.api.routes.generations import OwnedJob
from shared.config import Settings
from shared.jobs import JobStore
from shared.jobs.base import TERMINAL
from shared.schemas.api import JobStatus

router = APIRouter(prefix="/v1/generations", tags=["generations"])

RECONNECT_MS = 2000


def sse(event: str, data: str, event_id: int) -> bytes:
    return f"id: {event_id}\nevent: {event}\ndata: {data}\n\n".encode()


async def status_events(
    request: Request, jobs: JobStore, job: dict[str, Any], settings: Settings
) -> AsyncIterator[bytes]:
    """Status events of ``job`` (as just read by the route), then of each later read of it."""
    job_id = job["job_id"]
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    last: str | None = None
    event_id = 0
    started = last_sent = time.monotonic()
    while time.monotonic() - started < settings.events_max_duration_s:
        status = JobStatus.model_validate(job).model_dump_json()
        if status != last:
            event_id += 1
            last, last_sent = status, time.monotonic()
            yield sse("status", status, event_id)
            if job["status"] in TERMINAL:
                return
        elif time.monotonic() - last_sent >= settings.events_heartbeat_s:
            last_sent = time.monotonic()
            yield b": heartbeat\n\n"
        if await request.is_disconnected():
            return
        await anyio.sleep(settings.events_poll_interval_s)
        job = await anyio.to_thread.run_sync(jobs.get, job_id)
    yield sse("timeout", json.dumps({"job_id": job_id, "reconnect": True}), event_id + 1)


@router.get("/{job_id}/events", response_class=StreamingResponse)
async def generation_events(
    job: OwnedJob,
    request: Request,
    jobs: Annotated[JobStore, Depends(deps.jobs)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(status_events(request, jobs, job, settings), media_type="text/event-stream",
                             headers=headers)
