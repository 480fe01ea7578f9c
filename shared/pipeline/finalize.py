"""The last stage of every job kind: write the validated manifest and complete the job."""

from __future__ import annotations

import json
from typing import Any

from shared import metrics
from shared.jobs import JobRecord, Status
from shared.jobs.base import utcnow
from shared.pipeline import steps, webhooks
from shared.pipeline.context import StageContext, job_key
from shared.providers.registry import provider_class
from shared.schemas.manifest import validate_manifest
from shared.version import CODE_VERSION

FINALIZE_PROGRESS = steps.FINALIZE.progress
MANIFEST = "manifest.json"


def seed_artifact_fields(files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sprint-2 manifest's ``artifacts.scene_glb`` (the scene, or the model as GLB) and ``artifacts.refs``
    (the pictures the job worked from: its views, not the masks cut from them), as object keys."""
    pictures = [info["key"] for name, info in files.items()
                if name.startswith("views/") and not name.startswith("views/mask_")
                and info["content_type"].startswith("image/")]
    fields: dict[str, Any] = {"refs": sorted(pictures)}
    glb = files.get("scene.glb") or files.get("model.glb")
    if glb is not None:
        fields["scene_glb"] = glb["key"]
    return fields


def build_manifest(job: JobRecord, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of a job from its record: artifacts as stored, providers with versions."""
    providers = {
        stage: {"name": name, "version": provider_class(stage, name).version}
        for stage, name in job["providers"].items()
    }
    artifacts: dict[str, Any] = {name: info for name, info in job["artifacts"].items() if name != MANIFEST}
    if artifacts:  # a job with no files has an invalid manifest, whatever else is said of them
        artifacts.update(seed_artifact_fields(artifacts))
    manifest: dict[str, Any] = {
        "manifest_version": "0",
        "job_id": job["job_id"],
        "kind": job["kind"],
        "prompt": job["request"].get("prompt") or "",
        "artifacts": artifacts,
        "provenance": {
            "providers": providers,
            "code_version": CODE_VERSION,
            "timings": job.get("timings") or {},
            "created_at": job["created_at"],
            "finalized_at": utcnow(),
            "notes": job.get("notes") or [],
        },
    }
    if details:
        manifest["details"] = details
    return manifest


def finalize(ctx: StageContext) -> dict[str, Any]:
    """Validate and write ``manifest.json``, then complete the job (an invalid manifest fails it)."""
    job = ctx.jobs.require(ctx.job_id)
    manifest = build_manifest(job, job.get("details"))
    validate_manifest(manifest)
    # It carries the time it was made: of two overlapping runs of this stage, the first one's stays.
    ctx.put_artifact(MANIFEST, json.dumps(manifest, indent=2).encode(), "application/json", first_write_wins=True)
    # A result the pipeline scored as poor (a splat job's held-out check) completes, saying so and why.
    reasons = (job.get("details") or {}).get("quality_reasons")
    message = f"completed, but the result is poor: {'; '.join(reasons)}" if reasons else "completed"
    if ctx.jobs.transition(ctx.job_id, Status.COMPLETED, stage="finalizing", progress=100, message=message):
        metrics.count_job_outcome(job["kind"], Status.COMPLETED.value)
        completed: JobRecord = {**job, "status": Status.COMPLETED.value, "stage": "finalizing", "progress": 100,
                                "message": message}
        webhooks.notify(completed, "completed")  # what the transition wrote: no need to read it back
    return {"manifest_key": job_key(ctx.job_id, MANIFEST)}
