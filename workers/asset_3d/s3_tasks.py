"""The S3 workflow's Celery tasks (``shared.s3_workflow``), with the reference's names and arguments.

Each picture runs its stages in this one task rather than as a chain: the workflow's callers hold
one task id per picture and wait on it, and the model's copy and the document update must follow
the job's completion in the same place.
"""

from __future__ import annotations

from typing import Any

from celery import group

from shared import s3_workflow
from shared.celery_app import app
from shared.config import get_settings
from shared.jobs import get_job_store
from shared.storage import get_object_store


def _submit_and_run(task_id: str, reference: str, with_texture: bool | None, output_format: str,
                    doc_id: str | None, collection_name: str | None,
                    reconstruct_provider: str | None) -> dict[str, Any]:
    """Record the picture's job (unless a previous delivery did) and run it."""
    jobs = get_job_store()
    job_id = s3_workflow.job_id_for_task(task_id)
    if jobs.get(job_id) is None:
        record = s3_workflow.workflow_record(job_id, reference, with_texture, output_format, get_object_store(),
                                             get_settings(), reconstruct_provider)
        record["celery_task_ids"] = [task_id]
        jobs.create(record)
    return s3_workflow.run_workflow_job(job_id, doc_id, collection_name)


@app.task(name=s3_workflow.TASK_GENERATE, bind=True)
def generate_3d_model_from_image(self, image_key_or_path: str, with_texture: bool | None = None,
                                 output_format: str = "glb",
                                 doc_id: str | None = None, collection_name: str | None = None,
                                 reconstruct_provider: str | None = None) -> dict[str, Any]:
    return _submit_and_run(self.request.id, image_key_or_path, with_texture, output_format, doc_id, collection_name,
                           reconstruct_provider)


@app.task(name=s3_workflow.TASK_PROCESS, bind=True)
def process_image_for_3d_generation(self, image_s3_key: str, doc_id: str | None = None,
                                    collection_name: str | None = None, with_texture: bool | None = None,
                                    output_format: str = "glb",
                                    reconstruct_provider: str | None = None) -> dict[str, Any]:
    return _submit_and_run(self.request.id, image_s3_key, with_texture, output_format, doc_id, collection_name,
                           reconstruct_provider)


@app.task(name=s3_workflow.TASK_BATCH_ITEM, bind=True)
def process_batch_item(self, doc_id: str | None = None, collection_name: str | None = None) -> dict[str, Any]:
    """One picture of a batch, whose job the batch task already recorded under this task's id."""
    return s3_workflow.run_workflow_job(s3_workflow.job_id_for_task(self.request.id), doc_id, collection_name)


@app.task(name=s3_workflow.TASK_BATCH, bind=True)
def batch_process_s3_images_for_3d(self, image_s3_keys: list[str], with_texture: bool | None = None,
                                   output_format: str = "glb", collection_name: str | None = None,
                                   doc_ids: list[str] | None = None,
                                   reconstruct_provider: str | None = None) -> dict[str, Any]:
    """Record every picture's job in one write, then fan them out as a group of per-picture tasks."""
    task_ids = s3_workflow.create_batch_jobs(self.request.id, image_s3_keys, with_texture, output_format,
                                             reconstruct_provider)
    doc_ids = doc_ids or [None] * len(task_ids)
    items = [app.signature(s3_workflow.TASK_BATCH_ITEM, kwargs={"doc_id": doc_id, "collection_name": collection_name},
                           task_id=task_id, immutable=True)
             for task_id, doc_id in zip(task_ids, doc_ids, strict=True)]
    group(items).apply_async()
    return {"count": len(task_ids), "task_ids": task_ids,
            "job_ids": [s3_workflow.job_id_for_task(task_id) for task_id in task_ids]}
