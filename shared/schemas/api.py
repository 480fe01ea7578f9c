"""HTTP request and response models (``JobCreate`` in, ``JobPublic`` / ``JobStatus`` out)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

JobKind = Literal["env", "text_to_3d", "image_to_3d", "splat"]
JobStatusName = Literal["queued", "running", "completed", "failed", "canceled"]


class JobCreate(BaseModel):
    """``POST /v1/generations``; unknown fields are refused so typos are not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    kind: JobKind = "env"
    prompt: str | None = Field(None, min_length=1, description="Up to MAX_PROMPT_CHARS characters (600).")
    plan: dict[str, Any] | None = None
    images: list[str] | None = Field(None, max_length=8)
    image_urls: list[str] | None = Field(None, max_length=8)
    video: str | None = Field(None, max_length=1024, description="Upload id or object key of an mp4/mov/webm.")
    frames_prefix: str | None = Field(None, max_length=1024, description="Object-key prefix of existing frames.")
    providers: dict[str, str] = Field(default_factory=dict, max_length=16)
    options: dict[str, dict[str, Any]] = Field(default_factory=dict, max_length=16)
    output_format: Literal["glb", "obj", "ply", "stl", "fbx", "usdz"] = "glb"
    with_texture: bool | None = Field(
        None, description="text_to_3d / image_to_3d: false gives the shape with a plain material, no texture or "
                          "colours; left out, the model is textured wherever the format holds one (not STL, where "
                          "true is refused).")
    quality_tier: Literal["standard", "high"] = "standard"
    seed: int = Field(0, ge=0, le=2**31 - 1)
    webhook_url: str | None = Field(None, max_length=2048)
    webhook_events: list[Literal["started", "progress", "completed", "failed", "canceled"]] | None = Field(
        None, max_length=5, description="Events to deliver to webhook_url (default: started and the end states).")
    use_cache: bool = Field(True, description="Reuse a finished job with the same inputs instead of running again.")

    @model_validator(mode="after")
    def _prompt_is_text(self) -> JobCreate:
        if self.prompt is not None and not self.prompt.strip():
            raise ValueError("prompt must contain text")
        if self.kind == "env" and self.prompt is None and self.plan is None:
            raise ValueError("an env job needs a prompt or a plan")
        if self.kind == "splat" and (self.video is None) == (self.frames_prefix is None):
            raise ValueError("a splat job needs exactly one of video or frames_prefix")
        if self.kind == "text_to_3d" and self.prompt is None:
            raise ValueError("a text_to_3d job needs a prompt")
        if self.kind == "image_to_3d" and not 1 <= len(self.images or []) + len(self.image_urls or []) <= 8:
            raise ValueError("an image_to_3d job needs 1 to 8 images (images and image_urls together)")
        return self


class JobCreated(BaseModel):
    job_id: str
    status: JobStatusName
    status_url: str
    task_id: str = Field(description="The job id again, under the sprint-2 client's name for it.")


class JobError(BaseModel):
    type: str
    code: str
    message: str
    stage: str | None = None


# The sprint-2 client reads Celery's task states; each status has one.
CELERY_STATES: dict[str, str] = {"queued": "PENDING", "running": "STARTED", "completed": "SUCCESS",
                                 "failed": "FAILURE", "canceled": "REVOKED"}


class JobStatus(BaseModel):
    job_id: str
    kind: JobKind
    status: JobStatusName
    stage: str | None
    progress: int
    message: str | None
    error: JobError | None

    @computed_field(description="`status` as a Celery task state (PENDING, STARTED, SUCCESS, FAILURE, REVOKED), "
                                "for the sprint-2 client.")
    @property
    def state(self) -> str:
        return CELERY_STATES[self.status]


class ArtifactPublic(BaseModel):
    key: str
    bytes: int
    sha256: str
    content_type: str


class JobPublic(JobStatus):
    request: dict[str, Any]
    providers: dict[str, str]
    artifacts: dict[str, ArtifactPublic]
    timings: dict[str, float]
    notes: list[str]
    attempts: dict[str, int]
    details: dict[str, Any]
    webhooks: list[dict[str, Any]]
    celery_task_ids: list[str]
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None


class JobPage(BaseModel):
    items: list[JobPublic]
    limit: int
    offset: int
    next_offset: int | None


class SignedArtifact(ArtifactPublic):
    url: str


class PresignedUrls(BaseModel):
    job_id: str
    expires_in: int
    expires_at: int
    artifacts: dict[str, SignedArtifact]
    manifest_url: str | None = Field(None, description="artifacts['manifest.json'].url (the sprint-2 client's name).")
    scene_url: str | None = Field(None, description="The scene as GLB (scene.glb, or model.glb), else the main "
                                                  "artifact (the splats).")


class ErrorBody(BaseModel):
    """Every error response's body (``apps/api/errors.py``): clients branch on ``code``, never on the message."""

    code: str = Field(description="Stable and machine-readable: `validation_error`, `job_not_found`, …")
    message: str = Field(description="For people; may change between versions.")
    detail: Any = Field(None, description="Structured context when there is some (the fields of a 422), else null.")
