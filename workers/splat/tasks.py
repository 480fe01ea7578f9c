"""Splat tasks: video -> frames -> COLMAP sparse model -> 3D Gaussians -> ``scene.splat``.

One task per ``splat.*`` step of ``shared.pipeline.steps``.
"""

from __future__ import annotations

from shared.celery_app import app
from workers.stage_task import define_stage_tasks

TASKS = define_stage_tasks(app, "splat")
