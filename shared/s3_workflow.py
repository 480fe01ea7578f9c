"""The S3 batch workflow of the asset reference, over our ordinary ``image_to_3d`` jobs.

Callers (batch scripts, other services) name a picture by object key, ``s3://`` URI or a path under
``INPUTS_DIR``; the model lands beside the picture in the workflow layout
(``images/uploaded/red_car.jpg`` -> ``3d_assets/generated/red_car.glb``) and the caller's own document
gets the reference's ``model_*`` fields. Every picture is still a normal job (owner ``""``), so the
API, the reconciler and the manifest see it like any other.

Job ids are derived from Celery task ids (``job_id_for_task``): a redelivered message finds the job
its first delivery created, and ``get_task_status`` finds a task's job without any lookup table.

Document URLs are storage URIs, not signed links: ``s3://bucket/key`` on S3, ``file:///…`` for the
local store. A signed URL expires (at most 7 days) and would rot in a database; the document also
keeps the object keys (``model_s3_key``, ``image_s3_key``) to sign a fresh link from when needed.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

from shared.config import Settings, get_settings
from shared.errors import InvalidRequest
from shared.jobs import JobRecord, Status, get_job_store
from shared.jobs.base import TERMINAL, new_job_record, utcnow
from shared.storage import ObjectStore, get_object_store, validate_key
from shared.uploads import s3_uri_key

TASK_GENERATE = "s3_workflow.generate_3d_model_from_image"
TASK_PROCESS = "s3_workflow.process_image_for_3d_generation"
TASK_BATCH = "s3_workflow.batch_process_s3_images_for_3d"
TASK_BATCH_ITEM = "s3_workflow.process_batch_item"
DEFAULT_COLLECTION = "3d_models"
UPLOADED_PREFIX = "images/uploaded"
MODEL_PREFIXES = {"images/uploaded": "3d_assets/generated", "images/generated": "3d_assets/generated",
                  "images/text_to_3d": "3d_assets/text_to_3d"}
OTHER_MODELS_PREFIX = "3d_assets/model"


def job_id_for_task(task_id: str) -> str:
    """The job a workflow task runs: fixed by its task id, so redeliveries and status queries agree on it."""
    return hashlib.sha256(task_id.encode()).hexdigest()[:32]


def model_key_for(image_key: str, output_format: str) -> str:
    """Where the model of ``image_key`` goes: the workflow folder of its kind, same name, only the suffix changes.

    ``blue_house.png`` becomes ``blue_house.obj`` itself, with its ``blue_house.mtl`` and texture beside it.
    """
    suffix = f".{output_format}"
    path = PurePosixPath(image_key)
    image_prefix = next((prefix for prefix in MODEL_PREFIXES if image_key.startswith(prefix + "/")), None)
    model_prefix = MODEL_PREFIXES.get(image_prefix, OTHER_MODELS_PREFIX)
    relative = path.relative_to(image_prefix) if image_prefix else path
    return validate_key(f"{model_prefix}/{relative.with_suffix('')}{suffix}")


def input_file(path: str, settings: Settings) -> Path:
    """The file ``path`` names inside INPUTS_DIR (relative paths are taken from there); anything else is refused.

    Workers and the API read these paths on behalf of callers, so a path that resolves (symlinks
    included) outside the inputs folder could read any file of the service.
    """
    root = settings.resolved_inputs_dir.resolve()
    candidate = Path(path).expanduser()
    resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if not resolved.is_relative_to(root):
        raise InvalidRequest(f"path {path[:200]!r} is outside the inputs folder")
    if not resolved.is_file():
        raise InvalidRequest(f"no file {path[:200]!r} in the inputs folder")
    return resolved


def upload_input_file(path: str, objects: ObjectStore, settings: Settings) -> str:
    """Store a picture from INPUTS_DIR under ``images/uploaded/`` (same relative path); return its key."""
    from shared.uploads import sniff

    source = input_file(path, settings)
    if source.stat().st_size > settings.max_image_upload_bytes:
        raise InvalidRequest(f"{path[:200]!r} is larger than {settings.max_image_upload_bytes} bytes")
    with open(source, "rb") as handle:
        media = sniff(handle.read(16))
    if media is None or media.family != "image":
        raise InvalidRequest(f"{path[:200]!r} is not a PNG, JPEG or WebP image")
    relative = source.relative_to(settings.resolved_inputs_dir.resolve()).as_posix()
    key = validate_key(f"{UPLOADED_PREFIX}/{relative}")
    objects.put_file(key, source, media.content_type)
    return key


def source_key(reference: str, objects: ObjectStore, settings: Settings) -> str:
    """The object key a workflow input names: ``s3://bucket/key``, a path under INPUTS_DIR (uploaded), or a key.

    An ``s3://`` URI must name our bucket (and prefix) when the store is S3; the local store has no
    bucket, so only the key part counts there.
    """
    if reference.startswith("s3://"):
        return s3_uri_key(reference, objects)
    if reference.startswith(("/", "file://", "~")):
        return upload_input_file(reference.removeprefix("file://"), objects, settings)
    return validate_key(reference)


def storage_uri(objects: ObjectStore, key: str) -> str:
    """A durable address of an object (see the module docstring for why not a signed URL)."""
    bucket = getattr(objects, "bucket", None)
    if bucket is not None:
        prefix = getattr(objects, "prefix", "")
        return f"s3://{bucket}/{prefix + '/' if prefix else ''}{key}"
    return (Path(objects.root) / key).as_uri()


def workflow_record(job_id: str, reference: str, with_texture: bool | None, output_format: str,
                    objects: ObjectStore, settings: Settings, reconstruct_provider: str | None) -> JobRecord:
    """A queued ``image_to_3d`` job for one workflow picture, made by the job service like an API
    submission's; a picture that cannot be named, or a request the service refuses, is a failed job."""
    from pydantic import ValidationError

    from shared.pipeline.service import new_job
    from shared.schemas.api import JobCreate

    providers = {"reconstruct": reconstruct_provider} if reconstruct_provider else {}
    fields: dict[str, Any] = {"kind": "image_to_3d", "output_format": output_format,
                              "with_texture": textured(output_format, with_texture)}
    try:
        check_workflow_request(output_format, with_texture)
        body = JobCreate(**fields, images=[source_key(reference, objects, settings)], providers=providers)
        record = new_job(body, settings, job_id=job_id)
    except (InvalidRequest, ValidationError) as error:
        from shared.pipeline.runner import public_error

        provider = reconstruct_provider or settings.default_image_reconstruct_provider
        record = new_job_record("image_to_3d", {**fields, "quality_tier": "standard"}, {"reconstruct": provider},
                                job_id=job_id)
        record.update(status=Status.FAILED.value, error={**public_error(error), "stage": "queued"},
                      message=f"failed: {error}", completed_at=record["created_at"])
    record["request"]["source"] = reference[:1024]
    return record


def textured(output_format: str, with_texture: bool | None) -> bool:
    """Whether the model carries its texture: as asked, else wherever the format can hold one."""
    from shared.assets.formats import COLOURLESS_FORMATS

    return output_format not in COLOURLESS_FORMATS if with_texture is None else with_texture


def check_workflow_request(output_format: str, with_texture: bool | None) -> None:
    """Refuse an unknown format, or a texture asked of a format without one (``InvalidRequest`` naming the field)."""
    from shared.assets.formats import FORMATS, check_texture_request

    if output_format not in FORMATS:
        raise InvalidRequest(f"output_format {str(output_format)[:40]!r} is not one of {', '.join(FORMATS)}")
    check_texture_request(output_format, with_texture)


def _run_stages(job_id: str) -> dict[str, Any]:
    """Run the image_to_3d stages here, one after the other; the job record as they left it."""
    from shared.pipeline.runner import StageAlreadyFinished, StageSkipped, fail_job, run_stage
    from shared.pipeline.steps import PIPELINES

    jobs = get_job_store()
    for number, step in enumerate(PIPELINES["image_to_3d"]):
        try:
            run_stage(job_id, step.stage, step.progress, step.function(), first=number == 0)
        except StageAlreadyFinished:
            continue  # a redelivered workflow task: this stage's work is done, the next ones may not be
        except StageSkipped:
            break  # a result-cache hit completed the job; a cancel or failure ended it
        except Exception as exc:
            fail_job(job_id, exc, step.stage)
            break
    return jobs.get(job_id)


def run_workflow_job(job_id: str, doc_id: str | None, collection_name: str | None) -> dict[str, Any]:
    """Run the job, place its model in the workflow layout, record the outcome on the caller's document.

    Raises ``RuntimeError`` with the job's error when it did not complete, so Celery shows the task failed.
    A ``doc_id`` naming no document creates none: the result's ``document_error`` says so.
    """
    jobs, objects = get_job_store(), get_object_store()
    job = jobs.get(job_id)
    if job is None:
        raise RuntimeError(f"no job {job_id}")
    key = (job["request"].get("images") or [None])[0]
    if job["status"] == Status.QUEUED and not objects.exists(key):
        from shared.pipeline.runner import fail_job
        from shared.pipeline.steps import PIPELINES

        first_stage = PIPELINES["image_to_3d"][0].stage
        fail_job(job_id, InvalidRequest(f"no object {key!r} in the store"), first_stage)
        job = jobs.get(job_id)
    if job["status"] not in TERMINAL:
        job = _run_stages(job_id)
    request, output_format = job["request"], job["request"]["output_format"]
    outcome: dict[str, Any] = {"job_id": job_id, "image_s3_key": key, "output_format": output_format,
                               "with_texture": request["with_texture"], "doc_id": doc_id,
                               "collection_name": collection_name}
    if job["status"] == Status.COMPLETED:
        model_key = model_key_for(key, output_format)
        _place_model(job, model_key, objects)
        outcome.update(status="success", model_s3_key=model_key, s3_model_url=storage_uri(objects, model_key),
                       image_s3_url=storage_uri(objects, key))
    else:
        error = (job.get("error") or {}).get("message") or f"job ended {job['status']}"
        outcome.update(status="failed", error=error)
    if doc_id and collection_name:
        update = _record_outcome(doc_id, collection_name, outcome, objects)
        if update["status"] != "success":
            outcome["document_error"] = update["error"]
    if outcome["status"] != "success":
        raise RuntimeError(outcome["error"])
    return outcome


def _place_model(job: dict[str, Any], model_key: str, objects: ObjectStore) -> None:
    """Copy the job's model to ``model_key``; an OBJ as its own files (``.obj``, ``.mtl``, texture) side by side."""
    from shared.assets.formats import OBJ_PART_CONTENT_TYPES, model_artifact_name, obj_files

    output_format = job["request"]["output_format"]
    artifact = job["artifacts"][model_artifact_name(output_format)]["key"]
    if output_format != "obj":
        objects.copy(artifact, model_key)
        return
    folder, stem = PurePosixPath(model_key).parent, PurePosixPath(model_key).stem
    for name, data in obj_files(objects.get_bytes(artifact), stem).items():
        suffix = PurePosixPath(name).suffix.lower()
        objects.put_bytes(validate_key(f"{folder}/{name}"), data,
                          OBJ_PART_CONTENT_TYPES.get(suffix, "application/octet-stream"))


def _record_outcome(doc_id: str, collection_name: str, outcome: dict[str, Any],
                    objects: ObjectStore) -> dict[str, Any]:
    fields: dict[str, Any] = {"model_format": outcome["output_format"], "model_with_texture": outcome["with_texture"],
                              "job_id": outcome["job_id"]}
    if outcome["status"] == "success":
        fields.update(model_generated=True, model_generated_at=utcnow(), model_status="success")
        return update_mongodb_with_s3_links(doc_id, collection_name, model_s3_key=outcome["model_s3_key"],
                                            image_s3_key=outcome["image_s3_key"], additional_data=fields,
                                            objects=objects)
    fields.update(model_generated=False, model_status="failed", model_error=outcome["error"])
    image_key = outcome["image_s3_key"]
    return update_mongodb_with_s3_links(doc_id, collection_name, image_s3_key=image_key if image_key else None,
                                        additional_data=fields, objects=objects)


def create_batch_jobs(batch_task_id: str, references: list[str], with_texture: bool | None, output_format: str,
                      reconstruct_provider: str | None) -> list[str]:
    """Record one job per picture in a single write; the task ids of their items (``<batch>:<n>``).

    A redelivered batch message records only the jobs its first delivery did not (all of them, or
    those an interrupted write missed); the others stay as they are.
    """
    jobs, objects, settings = get_job_store(), get_object_store(), get_settings()
    task_ids = [f"{batch_task_id}:{number}" for number in range(len(references))]
    records = [workflow_record(job_id_for_task(task_id), reference, with_texture, output_format, objects, settings,
                               reconstruct_provider)
               for task_id, reference in zip(task_ids, references, strict=True)]
    for task_id, record in zip(task_ids, records, strict=True):
        record["celery_task_ids"] = [task_id]
    jobs.create_many(records)
    return task_ids


def update_mongodb_with_s3_links(
    doc_id: str,
    collection_name: str,
    *,
    model_s3_key: str | None = None,
    image_s3_key: str | None = None,
    model_s3_url: str | None = None,
    image_s3_url: str | None = None,
    status: str | None = None,
    additional_data: dict[str, Any] | None = None,
    objects: ObjectStore | None = None,
    create_if_missing: bool = False,
) -> dict[str, Any]:
    """Merge links and status into the caller's document (a Mongo collection or its SQLite stand-in).

    ``doc_id`` is matched as the ObjectId it spells (24 hex digits: MongoDB's own ids) or as the string.
    A document that is not there is not created unless ``create_if_missing``: the reply's ``status`` is
    then ``error`` with ``code`` ``document_not_found``. Keys are turned into storage URIs here so every
    writer of these documents agrees on the form.
    """
    objects = objects or get_object_store()
    fields: dict[str, Any] = dict(additional_data or {})
    if model_s3_key:
        fields.update(model_s3_key=validate_key(model_s3_key), model_s3_url=storage_uri(objects, model_s3_key))
    if image_s3_key:
        fields.update(image_s3_key=validate_key(image_s3_key), image_s3_url=storage_uri(objects, image_s3_key))
    if model_s3_url:
        fields["model_s3_url"] = model_s3_url
    if image_s3_url:
        fields["image_s3_url"] = image_s3_url
    if status:
        fields["model_status"] = status
    fields["updated_at"] = utcnow()
    reply: dict[str, Any] = {"doc_id": doc_id, "collection_name": collection_name}
    if not get_job_store().update_document(collection_name, doc_id, fields, create=create_if_missing):
        return {**reply, "status": "error", "code": "document_not_found",
                "error": f"no document {doc_id[:100]!r} in collection {collection_name[:100]!r}; nothing was updated"
                         " (create_if_missing=True creates it)"}
    return {**reply, "status": "success", "updated_fields": sorted(fields)}


def _celery():
    from shared.celery_app import app

    return app


def submit_s3_image_for_3d_generation(
    image_s3_key: str,
    doc_id: str | None = None,
    collection_name: str | None = DEFAULT_COLLECTION,
    with_texture: bool | None = None,
    output_format: str = "glb",
    reconstruct_provider: str | None = None,
) -> dict[str, Any]:
    """Send one picture to the GPU queue; the reply names the task and the job it will run.

    ``with_texture`` left out means textured wherever the format holds a texture (not STL); false gives the
    shape with a plain material. An unknown format, or a texture asked of STL, is refused here."""
    check_workflow_request(output_format, with_texture)
    task_id = str(uuid.uuid4())
    kwargs = {"image_s3_key": image_s3_key, "doc_id": doc_id, "collection_name": collection_name,
              "with_texture": with_texture, "output_format": output_format,
              "reconstruct_provider": reconstruct_provider}
    _celery().send_task(TASK_PROCESS, kwargs=kwargs, task_id=task_id)
    return {"status": "submitted", "task_id": task_id, "job_id": job_id_for_task(task_id),
            "image_s3_key": image_s3_key, "doc_id": doc_id, "collection_name": collection_name}


def submit_batch_s3_images_for_3d_generation(
    image_s3_keys: list[str],
    with_texture: bool | None = None,
    output_format: str = "glb",
    collection_name: str | None = DEFAULT_COLLECTION,
    doc_ids: list[str] | None = None,
    reconstruct_provider: str | None = None,
) -> dict[str, Any]:
    """Send a whole batch as one message: the worker records every job in one write and fans them out."""
    check_workflow_request(output_format, with_texture)
    if doc_ids is not None and len(doc_ids) != len(image_s3_keys):
        raise InvalidRequest(f"{len(doc_ids)} doc_ids for {len(image_s3_keys)} keys")
    task_id = str(uuid.uuid4())
    kwargs = {"image_s3_keys": list(image_s3_keys), "with_texture": with_texture, "output_format": output_format,
              "collection_name": collection_name, "doc_ids": doc_ids, "reconstruct_provider": reconstruct_provider}
    _celery().send_task(TASK_BATCH, kwargs=kwargs, task_id=task_id)
    return {"status": "submitted", "task_id": task_id, "count": len(image_s3_keys)}


def upload_image_and_submit_for_3d_generation(
    local_image_path: str,
    doc_id: str | None = None,
    collection_name: str | None = DEFAULT_COLLECTION,
    with_texture: bool | None = None,
    output_format: str = "glb",
    reconstruct_provider: str | None = None,
) -> dict[str, Any]:
    """Upload a picture from INPUTS_DIR to ``images/uploaded/`` and submit it.

    Limited to INPUTS_DIR like the worker's paths, since this helper also runs inside services.
    """
    check_workflow_request(output_format, with_texture)
    objects = get_object_store()
    key = upload_input_file(local_image_path, objects, get_settings())
    submitted = submit_s3_image_for_3d_generation(key, doc_id, collection_name, with_texture, output_format,
                                                  reconstruct_provider)
    return {**submitted, "status": "success", "image_s3_url": storage_uri(objects, key)}


def _job_progress(job: dict[str, Any]) -> dict[str, Any]:
    return {key: job.get(key) for key in ("job_id", "status", "stage", "progress", "message", "error")}


def get_task_status(task_id: str) -> dict[str, Any]:
    """Where a workflow task stands: ``ready``, ``successful``, ``result`` and ``progress``.

    Progress of a single picture comes from its job record; a batch's is the tally of its items.
    ``ready`` waits for the Celery task too, since the document is written after the job completes.
    """
    from celery.result import AsyncResult

    async_result = AsyncResult(task_id, app=_celery())
    ready = async_result.ready()
    successful = ready and async_result.successful()
    result = async_result.result if ready else None
    if isinstance(result, BaseException):
        result = {"status": "failed", "error": str(result)}
    job = get_job_store().get(job_id_for_task(task_id))
    if job is not None:
        return {"task_id": task_id, "ready": ready, "successful": successful, "result": result,
                "progress": _job_progress(job)}
    if successful and isinstance(result, dict) and "task_ids" in result:
        items = [get_task_status(item) for item in result["task_ids"]]
        tally = {"total": len(items), "completed": sum(item["successful"] for item in items),
                 "failed": sum(item["ready"] and not item["successful"] for item in items)}
        ready = all(item["ready"] for item in items)
        return {"task_id": task_id, "ready": ready, "successful": ready and tally["failed"] == 0,
                "result": {**result, "items": [item["result"] for item in items]} if ready else result,
                "progress": tally}
    return {"task_id": task_id, "ready": ready, "successful": successful, "result": result,
            "progress": {"state": async_result.state}}
