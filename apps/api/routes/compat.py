"""The multi-view pipeline reference's routes (``/3d/…``) over our ordinary jobs.

Jobs are created by ``shared.pipeline.service.submit_job``, so validation, idempotency, the result cache and the
broker-down behaviour are those of ``POST /v1/generations``. Status speaks the reference's
vocabulary: while a job runs, its stage maps onto the reference's states. Normalising uploaded
pictures is reported as ``generating_images``: in the reference that step belongs to the image
service (``/imagine/from-urls``), before reconstruction starts; ``finalizing`` (writing the
manifest) is reported as ``post_processing``, its last step there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Header, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool

from apps.api.auth import Owner
from apps.api.errors import ApiError
from apps.api.routes.generations import (
    IDEMPOTENCY_KEY_MAX_CHARS,
    Objects,
    OwnedJob,
    SettingsDep,
    SubmissionsDep,
    _download,
    main_artifact,
)
from shared.errors import validation_detail
from shared.pipeline.service import submit_job
from shared.pipeline.steps import PIPELINES
from shared.schemas.api import JobCreate

router = APIRouter(prefix="/3d", tags=["compatibility"])

IdempotencyKey = Annotated[str | None, Header(max_length=IDEMPOTENCY_KEY_MAX_CHARS)]

OutputFormat = Literal["glb", "obj", "ply", "stl", "fbx", "usdz"]
QualityTier = Literal["standard", "high"]
CompatState = Literal["queued", "generating_images", "reconstructing_3d", "post_processing", "completed", "failed"]
ASSET_KINDS = ("text_to_3d", "image_to_3d")
RUNNING_STATES: dict[str | None, CompatState] = {
    step.stage: cast(CompatState, step.compat_state) for kind in ASSET_KINDS for step in PIPELINES[kind]
}


TEXTURE_HELP = JobCreate.model_fields["with_texture"].description


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    output_format: OutputFormat = "glb"
    with_texture: bool | None = Field(None, description=TEXTURE_HELP)
    quality_tier: QualityTier = "standard"


class FromImageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_urls: list[str] | None = Field(None, min_length=1, max_length=8)
    image_paths: list[str] | None = Field(None, min_length=1, max_length=8,
                                          description="Pictures under INPUTS_DIR (absolute or relative).")
    output_format: OutputFormat = "glb"
    with_texture: bool | None = Field(None, description=TEXTURE_HELP)
    quality_tier: QualityTier = "standard"

    @model_validator(mode="after")
    def _one_source(self) -> FromImageBody:
        if (self.image_urls is None) == (self.image_paths is None):
            raise ValueError("send exactly one of image_urls or image_paths")
        return self


class CompatCreated(BaseModel):
    job_id: str
    status_url: str


class CompatStatus(BaseModel):
    job_id: str
    state: CompatState
    message: str | None
    progress: int
    asset_path: str | None = None
    download_url: str | None = None


async def _submit(fields: dict[str, Any], response: Response, settings: SettingsDep,
                  submissions: SubmissionsDep, owner: str, idempotency_key: str | None) -> CompatCreated:
    try:
        body = JobCreate(**fields)
    except ValidationError as error:
        raise ApiError(422, "validation_error", "the request is not valid", validation_detail(error)) from None
    job, _ = await submit_job(body, settings, submissions, owner, idempotency_key)
    response.headers["Location"] = f"/3d/status/{job['job_id']}"
    status_url = f"{settings.resolved_public_base_url}/3d/status/{job['job_id']}"
    return CompatCreated(job_id=job["job_id"], status_url=status_url)


@router.post("/generate", status_code=202, response_model=CompatCreated)
async def generate(body: GenerateBody, response: Response, settings: SettingsDep,
                   submissions: SubmissionsDep, owner: Owner,
                   idempotency_key: IdempotencyKey = None) -> CompatCreated:
    """Prompt -> 3D: a ``text_to_3d`` job."""
    fields = {"kind": "text_to_3d", **body.model_dump()}
    return await _submit(fields, response, settings, submissions, owner, idempotency_key)


@router.post("/from-image", status_code=202, response_model=CompatCreated)
async def from_image(body: FromImageBody, response: Response, objects: Objects, settings: SettingsDep,
                     submissions: SubmissionsDep, owner: Owner,
                     idempotency_key: IdempotencyKey = None) -> CompatCreated:
    """Pictures -> 3D: an ``image_to_3d`` job; paths are copied into the object store first (INPUTS_DIR only)."""
    from shared.s3_workflow import upload_input_file

    fields: dict[str, Any] = {"kind": "image_to_3d", "output_format": body.output_format,
                              "with_texture": body.with_texture, "quality_tier": body.quality_tier}
    if body.image_paths is not None:
        fields["images"] = await run_in_threadpool(
            lambda: [upload_input_file(path, objects, settings) for path in body.image_paths])
    else:
        fields["image_urls"] = body.image_urls
    return await _submit(fields, response, settings, submissions, owner, idempotency_key)


def _asset_job(job: dict[str, Any]) -> dict[str, Any]:
    if job["kind"] not in ASSET_KINDS:
        raise ApiError(404, "job_not_found", f"no 3D asset job {job['job_id']!r}")
    return job


@router.get("/status/{job_id}", response_model=CompatStatus)
def status(job: OwnedJob, settings: SettingsDep) -> CompatStatus:
    """The job in the reference's states; ``asset_path`` (the model's object key) once completed."""
    job = _asset_job(job)
    state: CompatState
    if job["status"] == "completed":
        state = "completed"
    elif job["status"] in ("failed", "canceled"):
        state = "failed"
    elif job["status"] == "running":
        state = RUNNING_STATES.get(job["stage"], "queued")
    else:
        state = "queued"
    message = job["message"]
    if state == "failed" and job.get("error"):
        message = job["error"]["message"]
    result = CompatStatus(job_id=job["job_id"], state=state, message=message, progress=job["progress"])
    artifact = job["artifacts"].get(main_artifact(job)) if state == "completed" else None
    if artifact is not None:
        result.asset_path = artifact["key"]
        result.download_url = f"{settings.resolved_public_base_url}/3d/download/{job['job_id']}"
    return result


@router.get("/download/{job_id}", response_class=StreamingResponse)
def download(job: OwnedJob, objects: Objects) -> StreamingResponse:
    """The final model file (``model.<format>``, or ``model.obj.zip`` for OBJ)."""
    job = _asset_job(job)
    if job["status"] != "completed":
        raise ApiError(409, "job_not_completed", f"job is {job['status']}; the model is not ready")
    return _download(job, main_artifact(job), objects)
