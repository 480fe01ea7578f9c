"""Env-generation tasks: build the scene with the job's env provider.

One task per ``env_gen.*`` step of ``shared.pipeline.steps``; a cloud env provider's stage runs in
``workers/cloud/tasks.py``.
"""

from __future__ import annotations

from shared.celery_app import app
from workers.stage_task import define_stage_tasks

TASKS = define_stage_tasks(app, "env_gen")
