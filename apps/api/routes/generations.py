"""``/v1/generations``: submit, read, list, cancel, sign and download jobs."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import PurePosixPath
from typing import Annotated, Any

from celery import Celery
from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import StreamingResponse

from apps.api import deps
from apps.api.auth import Owner
from apps.api.errors import ApiError
from shared import metrics
from shared.assets.formats import model_artifact_name
from shared.config import Settings
from shared.jobs import DuplicateJob, JobStore, Status
from shared.jobs.base import TERMINAL, new_job_record
from shared.pipeline import chains, webhooks
from shared.pipeline.intake import prepare_request
from shared.pipeline.runner import fail_job
from shared.schemas.api import JobCreate, JobCreated, JobPage, JobPublic, JobStatus, PresignedUrls
from shared.storage import ObjectStore

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/generations", tags=["generations"])

MAIN_ARTIFACT = {"env": "scene.glb", "splat": "scene.splat"}


def main_artifact(job: dict[str, Any]) -> str:
    """The file a plain ``/download`` returns: the scene, the splats, or the model in the asked format."""
    if job["kind"] in ("text_to_3d", "image_to_3d"):
        return model_artifact_name(job["request"].get("output_format", "glb"))
    return MAIN_ARTIFACT.get(job["kind"], "manifest.json")

Jobs = Annotated[JobStore, Depends(deps.jobs)]
Objects = Annotated[ObjectStore, Depends(deps.objects)]
SettingsDep = Annotated[Settings, Depends(deps.settings)]
CeleryDep = Annotated[Celery, Depends(deps.celery)]


def owned_job(job_id: str, jobs: Jobs, owner: Owner) -> dict[str, Any]:
    """The job if it exists and belongs to the caller; another owner's job is as absent as a missing one."""
    job = jobs.get(job_id) if len(job_id) <= 64 else None
    if job is None or job["owner"] != owner:
        raise ApiError(404, "job_not_found", f"no job {job_id!r}")
    return job


OwnedJob = Annotated[dict[str, Any], Depends(owned_job)]


def _public(job: dict[str, Any]) -> JobPublic:
    return JobPublic.model_validate(job)


def _created(job: dict[str, Any], settings: Settings) -> JobCreated:
    status_url = f"{settings.resolved_public_base_url}/v1/generations/{job['job_id']}/status"
    return JobCreated(job_id=job["job_id"], status=job["status"], status_url=status_url)


def _request_hash(body: JobCreate) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _replay(existing: dict[str, Any], request_hash: str, settings: Settings, response: Response) -> JobCreated:
    if existing["request_hash"] != request_hash:
        raise ApiError(409, "idempotency_conflict", "this Idempotency-Key was used with a different request")
    response.headers["Idempotent-Replayed"] = "true"
    return _created(existing, settings)


@router.post("", status_code=202, response_model=JobCreated)
def create_generation(
    body: JobCreate,
    response: Response,
    jobs: Jobs,
    objects: Objects,
    settings: SettingsDep,
    app: CeleryDep,
    owner: Owner,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JobCreated:
    """Record the job as ``queued`` and send its chain; the reply does not wait for any work."""
    if body.prompt is not None and len(body.prompt) > settings.max_prompt_chars:
        raise ApiError(422, "prompt_too_long", f"prompt is longer than {settings.max_prompt_chars} characters")
    providers = chains.resolve_providers(body.kind, body.providers, body.options, settings)
    request = prepare_request(body, objects, settings)
    request_hash = _request_hash(body)
    if idempotency_key:
        existing = jobs.find_by_idempotency_key(owner, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash, settings, response)
    job = new_job_record(
        body.kind, request, providers,
        owner=owner, idempotency_key=idempotency_key, request_hash=request_hash,
    )
    job["celery_task_ids"] = chains.task_ids(body.kind, job["job_id"])
    try:
        jobs.create(job)
    except DuplicateJob as duplicate:
        return _replay(duplicate.job, request_hash, settings, response)
    try:
        chains.enqueue(app, job)
    except Exception as exc:
        log.exception("could not enqueue job %s", job["job_id"])
        fail_job(job["job_id"], exc, stage="queued")
        raise ApiError(503, "broker_unavailable", "the job queue is unavailable; the job was not started") from None
    metrics.count_job_outcome(body.kind, Status.QUEUED.value)
    response.headers["Location"] = f"/v1/generations/{job['job_id']}"
    return _created(job, settings)


@router.get("", response_model=JobPage)
def list_generations(
    jobs: Jobs,
    owner: Owner,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    kind: str | None = None,
    status: Status | None = None,
) -> JobPage:
    limit = min(limit, settings.max_page_size)
    status_filter = status.value if status else None
    items = jobs.list(owner=owner, kind=kind, status=status_filter, limit=limit + 1, offset=offset)
    more = len(items) > limit
    return JobPage(
        items=[_public(job) for job in items[:limit]], limit=limit, offset=offset,
        next_offset=offset + limit if more else None,
    )


@router.get("/{job_id}", response_model=JobPublic)
async def get_generation(job: OwnedJob) -> JobPublic:
    """Async: the store read happens in ``owned_job`` (a thread); this part only shapes the reply."""
    return _public(job)


@router.get("/{job_id}/status", response_model=JobStatus)
async def get_status(job: OwnedJob) -> JobStatus:
    return JobStatus.model_validate(job)


@router.post("/{job_id}/cancel", response_model=JobStatus)
def cancel_generation(job: OwnedJob, jobs: Jobs) -> JobStatus:
    """Cancel a queued or running job; its remaining stages see the status and do not run."""
    canceled = jobs.transition(job["job_id"], Status.CANCELED, message="canceled by the client")
    job = jobs.get(job["job_id"])
    if canceled:
        metrics.count_job_outcome(job["kind"], Status.CANCELED.value)
    elif job["status"] in TERMINAL:
        raise ApiError(409, "job_finished", f"job is already {job['status']}")
    webhooks.notify(job, "canceled")
    return JobStatus.model_validate(job)


@router.get("/{job_id}/presigned", response_model=PresignedUrls)
def presigned_urls(job: OwnedJob, objects: Objects, settings: SettingsDep) -> PresignedUrls:
    ttl = settings.signed_url_ttl_s
    signed = {name: {**info, "url": objects.signed_url(info["key"], ttl)} for name, info in job["artifacts"].items()}
    return PresignedUrls(job_id=job["job_id"], expires_in=ttl, expires_at=int(time.time()) + ttl, artifacts=signed)


def _download(job: dict[str, Any], artifact: str, objects: ObjectStore) -> StreamingResponse:
    info = job["artifacts"].get(artifact)
    if info is None:
        names = ", ".join(sorted(job["artifacts"])) or "none yet"
        raise ApiError(404, "artifact_not_found", f"job has no artifact {artifact!r} (artifacts: {names})")
    filename = PurePosixPath(artifact).name
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Length": str(info["bytes"]),
        "ETag": f'"{info["sha256"]}"',
    }
    return StreamingResponse(objects.iter_chunks(info["key"]), media_type=info["content_type"], headers=headers)


@router.get("/{job_id}/download", response_class=StreamingResponse)
def download_main(job: OwnedJob, objects: Objects) -> StreamingResponse:
    """The job's main artifact (``scene.glb`` for an environment)."""
    return _download(job, main_artifact(job), objects)


@router.get("/{job_id}/download/{artifact:path}", response_class=StreamingResponse)
def download_artifact(job: OwnedJob, artifact: str, objects: Objects) -> StreamingResponse:
    return _download(job, artifact, objects)
