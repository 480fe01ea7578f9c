"""Env-generation tasks: build the scene with the job's env provider."""

from __future__ import annotations

from shared.celery_app import app
from shared.config import get_settings
from shared.pipeline import env
from workers.stage_task import run_stage_task


@app.task(name="env_gen.run_env_cloud", bind=True, max_retries=None)
def run_env_cloud(self, job_id: str) -> None:
    """Submit or check the SageMaker job; while it runs, come back after the poll interval."""
    done = run_stage_task(self, job_id, "generating_scene", env.SCENE_PROGRESS, env.generate_scene_in_cloud)
    if not done:
        raise self.retry(countdown=get_settings().sagemaker_poll_interval_s)


@app.task(name="env_gen.run_env", bind=True)
def run_env(self, job_id: str) -> None:
    run_stage_task(self, job_id, "generating_scene", env.SCENE_PROGRESS, env.generate_scene)
