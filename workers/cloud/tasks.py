"""The cloud task: any stage whose provider is a cloud provider (``shared.providers.cloud``).

It submits the stage's outside job once and polls it, coming back after the provider's poll interval
while it runs, so no worker ever sleeps on a cloud job.
"""

from __future__ import annotations

from celery import Task

from shared.celery_app import app
from shared.config import get_settings
from shared.jobs import get_job_store
from shared.pipeline.cloud import cloud_provider_class, run_in_cloud
from shared.pipeline.steps import BY_STAGE
from shared.providers.cloud import CLOUD_TASK
from workers.stage_task import run_stage_task

# The cloud stages' task names before this one task served them all: a poll already waiting under one
# (re-sent with a countdown, under its own name) must still find its task after an upgrade.
FORMER_CLOUD_TASKS = {"env_gen.run_env_cloud": "generating_scene", "asset_3d.reconstruct_cloud": "reconstructing_3d"}


def _run_cloud_stage(task: Task, job_id: str, stage: str, transient_faults: int) -> None:
    """Its retries are mostly polls, so the transient faults it met are counted apart (``transient_faults``,
    carried from delivery to delivery): a long outside job must not use up the retries a fault gets."""
    step = BY_STAGE[stage]
    provider_stage = step.provider_stage
    if provider_stage is None:
        raise ValueError(f"stage {stage!r} runs no provider, so no cloud provider")
    done = run_stage_task(task, job_id, stage, step.progress, lambda ctx: run_in_cloud(ctx, provider_stage),
                          transient_faults=transient_faults)
    if not done:
        job = get_job_store().require(job_id)
        raise task.retry(countdown=cloud_provider_class(job, provider_stage).poll_interval_s(get_settings()))


@app.task(name=CLOUD_TASK, bind=True, max_retries=None)
def run_cloud_stage(self: Task, job_id: str, stage: str, transient_faults: int = 0) -> None:
    _run_cloud_stage(self, job_id, stage, transient_faults)


def _former_task(name: str, stage: str) -> Task:
    def run(task: Task, job_id: str, transient_faults: int = 0) -> None:
        _run_cloud_stage(task, job_id, stage, transient_faults)

    run.__name__ = run.__qualname__ = name.partition(".")[2]
    return app.task(name=name, bind=True, max_retries=None)(run)


FORMER_TASKS = {name: _former_task(name, stage) for name, stage in FORMER_CLOUD_TASKS.items()}
