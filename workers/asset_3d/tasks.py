"""3D-asset tasks: (prompt -> views | photos -> normalised views) -> mesh -> cleaned, exported model.

One task per ``asset_3d.*`` step of ``shared.pipeline.steps``; a cloud reconstructor's stage runs in
``workers/cloud/tasks.py``.
"""

from __future__ import annotations

from shared.celery_app import app
from workers.stage_task import define_stage_tasks

TASKS = define_stage_tasks(app, "asset_3d")
