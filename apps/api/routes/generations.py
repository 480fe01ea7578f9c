"""``/v1/generations``: submit, read, list, cancel, sign and download jobs."""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect
from starlette.routing import Route

from apps.api import deps
from apps.api.auth import Owner, current_owner
from apps.api.errors import ApiError
from shared.assets.formats import model_artifact_name
from shared.config import Settings
from shared.jobs import JobStore, Status
from shared.pipeline.service import cancel_job, submit_job
from shared.pipeline.submission import Submissions
from shared.schemas.api import JobCreate, JobCreated, JobPage, JobPublic, JobStatus, PresignedUrls
from shared.storage import ObjectStore

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
SubmissionsDep = Annotated[Submissions, Depends(deps.submissions)]


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
    return JobCreated(job_id=job["job_id"], status=job["status"], status_url=status_url, task_id=job["job_id"])


IDEMPOTENCY_KEY_MAX_CHARS = 255

# ``create_generation`` reads its body and header itself; this describes them as FastAPI would have.
# (``JobCreate`` and the models it uses are added to the document's components by ``install``.)
CREATE_GENERATION_OPENAPI: dict[str, Any] = {
    "parameters": [{
        "name": "idempotency-key", "in": "header", "required": False,
        "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX_CHARS, "title": "Idempotency-Key"},
        "description": "Send the same key again to get the same job back instead of a new one "
                       "(409 `idempotency_conflict` if the request differs).",
    }],
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobCreate"}}}},
}


async def read_job_create(request: Request) -> JobCreate:
    """The body as a ``JobCreate``; a 422 ``validation_error`` like any other route's when it is not one,
    and FastAPI's 400 when it cannot be read (the client went away, or ``BodySizeLimit`` cut it off)."""
    try:
        body = await request.body()
    except ClientDisconnect:
        raise HTTPException(400, "There was an error parsing the body") from None
    try:
        return JobCreate.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None


def read_idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX_CHARS:
        raise RequestValidationError([{
            "type": "string_too_long", "loc": ("header", "idempotency-key"),
            "msg": f"String should have at most {IDEMPOTENCY_KEY_MAX_CHARS} characters",
        }])
    return key


@router.post("", status_code=202, response_model=JobCreated, openapi_extra=CREATE_GENERATION_OPENAPI,
             description="Record the job as `queued` and send its chain; the reply does not wait for any work.")
async def create_generation(request: Request) -> Response:
    """The API's hot path, so it does by hand what FastAPI does for dependencies, a body model, a
    header parameter and a response model: FastAPI's machinery for those cost more than validating,
    recording and sending the job (``bench/submission.py``; ``docs/benchmarks.md``). Errors and the
    document are the same as FastAPI's. It is served through ``DIRECT_ROUTES``.
    """
    settings = request.app.state.settings
    owner = await current_owner(request, settings)
    body = await read_job_create(request)
    job, replayed = await submit_job(body, settings, deps.submissions_of(request.app), owner,
                                     read_idempotency_key(request))
    headers = {"Location": f"/v1/generations/{job['job_id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(_created(job, settings).model_dump_json(), status_code=202, headers=headers,
                    media_type="application/json")


# ``create_generation`` as a plain Starlette route, which ``install`` puts ahead of every other
# route: requests reach it without FastAPI's per-route machinery (resolving the endpoint's parameters,
# a per-request exit stack, matching through the included routers), which cost more than a quarter of
# a submission: with wrk at concurrency 64, 4,400-5,700 submissions/s through the FastAPI route and
# 5,900-6,800 through this one, same run. The FastAPI route above still describes the operation in
# the OpenAPI document; middleware and exception handlers are the app's either way.
DIRECT_ROUTES = [Route("/v1/generations", create_generation, methods=["POST"])]


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
    return JobStatus.model_validate(cancel_job(jobs, job["job_id"]))


@router.get("/{job_id}/presigned", response_model=PresignedUrls)
def presigned_urls(job: OwnedJob, objects: Objects, settings: SettingsDep) -> PresignedUrls:
    ttl = settings.signed_url_ttl_s
    signed = {name: {**info, "url": objects.signed_url(info["key"], ttl)} for name, info in job["artifacts"].items()}
    manifest = signed.get("manifest.json")
    scene = signed.get("scene.glb") or signed.get("model.glb") or signed.get(main_artifact(job))
    return PresignedUrls(job_id=job["job_id"], expires_in=ttl, expires_at=int(time.time()) + ttl, artifacts=signed,
                         manifest_url=manifest["url"] if manifest else None, scene_url=scene["url"] if scene else None)


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


def install(app: FastAPI) -> None:
    """Serve these routes on ``app``: the router, the direct submission route ahead of every other
    route, and ``JobCreate`` (which that route reads itself) in the OpenAPI document."""
    app.include_router(router)
    app.router.routes[:0] = DIRECT_ROUTES
    document_models(app, JobCreate)


def document_models(app: FastAPI, *models: type[BaseModel]) -> None:
    """Add ``models`` (and the models they use) to the OpenAPI components: a route that reads its body
    itself (``create_generation``) refers to its model there, but FastAPI lists only the models of
    declared parameters."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, nested in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, nested)
                schemas[model.__name__] = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
