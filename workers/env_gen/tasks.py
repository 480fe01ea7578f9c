"""Env-generation tasks: build the scene with the job's env provider."""

from __future__ import annotations

from shared.celery_app import app
from shared.pipeline import env
from workers.stage_task import run_stage_task


@app.task(name="env_gen.run_env", bind=True)
def run_env(self, job_id: str) -> None:
    run_stage_task(self, job_id, "generating_scene", env.SCENE_PROGRESS, env.generate_scene)
