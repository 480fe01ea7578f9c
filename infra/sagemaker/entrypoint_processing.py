"""Entrypoint of the SageMaker Processing container: run one job's stages with the workers' own stage code.

SageMaker starts it with the job in ``MMF_JOB_JSON`` (or, when too long for an environment value,
at ``MMF_JOB_KEY`` in the bucket) and ``OBJECT_STORE_URL=s3://bucket[/prefix]``, as set by
``shared.providers.sagemaker_processing.submit_processing_job``. It runs the job's container steps
(``container_steps``: the same stage functions the Celery workers run, from ``shared.pipeline.steps``)
against a context with no job store.

An env job plans and builds the scene; the manifest of what it built is written last, as
``cloud_scene.json``, so the polling task can take its presence as proof that everything else is
there (the job's ``manifest.json`` is the finalize stage's alone). A text_to_3d / image_to_3d job runs
only its reconstruct stage (the reconstructor the ``sagemaker`` provider named): it reads the views
the service already stored under ``jobs/<job_id>/views/`` and writes ``reconstruction.glb``, then
``cloud_reconstruction.json`` (what was written, by which provider), last for the same reason.

Exit status 0 means the scene's manifest (or the reconstruction marker) is written. On failure the status is 1,
and the error goes to stderr (CloudWatch) and to ``/opt/ml/output/message``, which SageMaker returns as
``ExitMessage``.

    python -m infra.sagemaker.entrypoint_processing [--exit-message-file PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from shared.cloud.sagemaker import SageMakerConfigError, processing_job_name
from shared.config import Settings, get_settings
from shared.errors import InvalidRequest, MMFError, ProviderError, validation_detail
from shared.jobs.base import JobRecord, utcnow
from shared.pipeline.assets import RECONSTRUCTION
from shared.pipeline.context import JobArtifacts, job_key
from shared.pipeline.finalize import build_manifest
from shared.pipeline.steps import Step
from shared.providers.sagemaker_processing import (
    ASSET_KINDS,
    CLOUD_RECONSTRUCTION,
    CLOUD_SCENE,
    ProcessingJobInput,
    container_steps,
)
from shared.schemas.manifest import validate_manifest
from shared.storage.base import ObjectInfo, ObjectStore
from shared.storage.factory import open_object_store

EXIT_MESSAGE_FILE = Path("/opt/ml/output/message")
EXIT_MESSAGE_MAX_BYTES = 1024


class ProcessingContext(JobArtifacts):
    """What ``shared.pipeline.env`` (and the reconstruct stage) needs from a ``StageContext``, without a job store.

    Progress goes to the log (nobody can cancel a processing job through us); notes and artifacts
    are kept here for the manifest, and artifacts land at the same keys a worker would write.
    """

    def __init__(self, job: dict[str, Any], objects: ObjectStore, settings: Settings, workdir: Path) -> None:
        self.job = cast(JobRecord, job)  # the job as sent: fields the container does not read may be cut
        self.objects = objects
        self.settings = settings
        self.workdir = workdir
        self.stage = ""
        self.retry_number = 0
        self.notes: list[str] = []
        self.details: dict[str, Any] = {}
        self.written: dict[str, ObjectInfo] = {}

    def report(self, fraction: float, message: str) -> None:
        print(f"[{self.stage}] {max(0.0, min(1.0, fraction)):4.0%} {message}", flush=True)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def add_details(self, details: dict[str, Any]) -> None:
        self.details.update(details)

    def put_artifact(self, name: str, data: bytes | Path, content_type: str | None = None) -> ObjectInfo:
        key = job_key(self.job_id, name)
        if isinstance(data, Path):
            info = self.objects.put_file(key, data, content_type)
        else:
            info = self.objects.put_bytes(key, data, content_type)
        self.written[name] = info
        return info


def open_s3_store(settings: Settings) -> ObjectStore:
    """The job's bucket; a local folder inside a container would vanish with it, so it is refused."""
    url = settings.resolved_object_store_url
    if not url.startswith("s3://"):
        raise SageMakerConfigError(f"OBJECT_STORE_URL must be an s3:// URL in the processing container, not {url!r}")
    return open_object_store(settings)


def load_job(settings: Settings, objects: ObjectStore) -> dict[str, Any]:
    """The job from ``MMF_JOB_JSON``, or from the object ``MMF_JOB_KEY`` names; checked before anything runs."""
    if settings.mmf_job_json:
        raw: str | bytes = settings.mmf_job_json
    elif settings.mmf_job_key:
        raw = objects.get_bytes(settings.mmf_job_key)
    else:
        raise SageMakerConfigError("neither MMF_JOB_JSON nor MMF_JOB_KEY is set: nothing to run")
    try:
        return ProcessingJobInput.model_validate_json(raw).model_dump(mode="json")
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, d['loc'])) or '<root>'}: {d['msg']}" for d in validation_detail(exc))
        raise InvalidRequest(f"the job JSON is not a processing job input: {details}") from None


def _run_stages(ctx: ProcessingContext, steps: tuple[Step, ...]) -> dict[str, float]:
    timings: dict[str, float] = {}
    for step in steps:
        ctx.stage = step.stage
        started = time.perf_counter()
        step.function()(ctx)
        timings[step.stage] = round(time.perf_counter() - started, 3)
    return timings


def run_reconstruction(job: dict[str, Any], objects: ObjectStore, settings: Settings,
                       workdir: Path) -> dict[str, Any]:
    """Mesh the stored views, then write and return the marker that says ``reconstruction.glb`` is complete."""
    ctx = ProcessingContext(job, objects, settings, workdir)
    timings = _run_stages(ctx, container_steps(job["kind"]))
    provider = job["providers"]["reconstruct"]
    if RECONSTRUCTION not in ctx.written:
        raise ProviderError(f"reconstruct provider {provider!r} finished without writing {RECONSTRUCTION}")
    marker = {
        "job_id": job["job_id"],
        "kind": job["kind"],
        "processing_job_name": processing_job_name(job["job_id"]),
        "provider": provider,
        "artifacts": {name: info.as_dict() for name, info in ctx.written.items()},
        "timings": timings,
        "notes": ctx.notes,
        "details": ctx.details,
        "finished_at": utcnow(),
    }
    ctx.stage = "finalizing"
    ctx.put_artifact(CLOUD_RECONSTRUCTION, json.dumps(marker, indent=2).encode(), "application/json")
    ctx.report(1.0, f"wrote {job_key(job['job_id'], CLOUD_RECONSTRUCTION)}")
    return marker


def run_job(job: dict[str, Any], objects: ObjectStore, settings: Settings, workdir: Path) -> dict[str, Any]:
    """Plan, build the scene, then write (as ``cloud_scene.json``) and return the validated manifest of
    what was built (an asset job: reconstruct only)."""
    if job.get("kind") in ASSET_KINDS:
        return run_reconstruction(job, objects, settings, workdir)
    ctx = ProcessingContext(job, objects, settings, workdir)
    timings = _run_stages(ctx, container_steps(job["kind"]))
    if "scene.glb" not in ctx.written:
        raise ProviderError(f"env provider {job['providers']['env']!r} finished without writing scene.glb")
    record: JobRecord = {
        **job,  # type: ignore[typeddict-item]  # the job as the worker sent it: a JobRecord cut to what runs here
        "artifacts": {name: info.as_dict() for name, info in ctx.written.items()},
        "timings": timings,
        "notes": ctx.notes,
        "created_at": job.get("created_at") or utcnow(),
    }
    details = {"executor": "sagemaker_processing", "processing_job_name": processing_job_name(job["job_id"])}
    manifest = build_manifest(record, details)
    validate_manifest(manifest)
    ctx.stage = "finalizing"
    ctx.put_artifact(CLOUD_SCENE, json.dumps(manifest, indent=2).encode(), "application/json")
    ctx.report(1.0, f"wrote {job_key(job['job_id'], CLOUD_SCENE)}")
    return manifest


def _write_exit_message(path: Path, message: str) -> None:
    """Only where SageMaker mounted its output folder; elsewhere stderr is the whole story."""
    if path.parent.is_dir():
        path.write_text(message.encode()[:EXIT_MESSAGE_MAX_BYTES].decode(errors="ignore"), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.sagemaker.entrypoint_processing",
                                     description="Run one job inside a SageMaker Processing container.")
    parser.add_argument("--exit-message-file", type=Path, default=EXIT_MESSAGE_FILE,
                        help="where SageMaker picks up the failure message (default: %(default)s)")
    args = parser.parse_args(argv)
    job_id = "?"
    try:
        settings = get_settings()
        objects = open_s3_store(settings)
        job = load_job(settings, objects)
        job_id = job["job_id"]
        with tempfile.TemporaryDirectory(prefix=f"mmf-{job_id[:8]}-") as scratch:
            run_job(job, objects, settings, Path(scratch))
    except Exception as exc:
        if not isinstance(exc, MMFError):
            traceback.print_exc()
        message = f"mmf processing job {job_id} failed: {exc.__class__.__name__}: {exc}"
        print(message, file=sys.stderr, flush=True)
        _write_exit_message(args.exit_message_file, message)
        return 1
    print(f"mmf processing job {job_id} completed", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
