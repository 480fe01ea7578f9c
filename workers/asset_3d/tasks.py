"""3D-asset tasks: (prompt -> views | photos -> normalised views) -> mesh -> cleaned, exported model."""

from __future__ import annotations

from shared.celery_app import app
from shared.config import get_settings
from shared.pipeline import assets
from workers.stage_task import run_stage_task


@app.task(name="asset_3d.generate_images", bind=True)
def generate_images(self, job_id: str) -> None:
    run_stage_task(self, job_id, "generating_images", assets.IMAGES_PROGRESS, assets.generate_images, first=True)


@app.task(name="asset_3d.normalize_images", bind=True)
def normalize_images(self, job_id: str) -> None:
    run_stage_task(self, job_id, "normalizing_images", assets.NORMALIZE_PROGRESS, assets.normalize_images, first=True)


@app.task(name="asset_3d.reconstruct", bind=True)
def reconstruct(self, job_id: str) -> None:
    run_stage_task(self, job_id, "reconstructing_3d", assets.RECONSTRUCT_PROGRESS, assets.reconstruct)


@app.task(name="asset_3d.reconstruct_cloud", bind=True, max_retries=None)
def reconstruct_cloud(self, job_id: str) -> None:
    """Submit or check the SageMaker job; while it runs, come back after the poll interval."""
    done = run_stage_task(self, job_id, "reconstructing_3d", assets.RECONSTRUCT_PROGRESS, assets.reconstruct_in_cloud)
    if not done:
        raise self.retry(countdown=get_settings().sagemaker_poll_interval_s)


@app.task(name="asset_3d.post_process", bind=True)
def post_process(self, job_id: str) -> None:
    run_stage_task(self, job_id, "post_processing", assets.POSTPROCESS_PROGRESS, assets.post_process)
