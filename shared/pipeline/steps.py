"""Every job kind as one table of steps: what each stage is called, where its progress lies, which
function does its work, which provider stage (if any) decides where it runs, and its Celery task.

Everything else is derived from this table: the Celery tasks (``workers/stage_task.py``), the chain
the API sends (``shared.pipeline.chains``), the metrics' provider labels (``shared.pipeline.runner``),
the compat routes' states, the S3 workflow's in-process stages and the SageMaker container's stages.
Adding a stage is one ``Step`` here plus its function; adding a job kind, one ``PIPELINES`` entry.

The module imports nothing but the standard library: the API reads it on every submission, and
a step names its work function as ``"module:function"``, imported only where the stage runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Step:
    task: str
    """The Celery task that runs the stage (``<group>.<name>``: ``workers/<group>/tasks.py`` defines it, and
    the group's route in ``shared.celery_app`` picks its queue)."""
    stage: str
    """The job stage (the record's ``stage`` while it runs; its timing is recorded under this name)."""
    progress: tuple[int, int]
    """The share of the job's progress, in percent, the stage moves through."""
    work: str
    """``"module:function"``: the stage function, called with the ``StageContext``."""
    provider_stage: str | None = None
    """The provider stage whose provider does the work and decides the queue; None runs on the task's route."""
    compat_state: str | None = None
    """What the compat routes (``/3d/…``) call the stage while it runs; None for kinds they do not serve."""

    def function(self) -> Callable[..., Any]:
        return _resolve(self.work)


@cache
def _resolve(target: str) -> Callable[..., Any]:
    module_name, _, function_name = target.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


PLAN = Step("orchestrator.plan", "planning", (0, 10), "shared.pipeline.env:plan_scene", "plan")
GENERATE_SCENE = Step("env_gen.run_env", "generating_scene", (10, 90), "shared.pipeline.env:generate_scene", "env")
GENERATE_IMAGES = Step("asset_3d.generate_images", "generating_images", (0, 30),
                       "shared.pipeline.assets:generate_images", "images", compat_state="generating_images")
NORMALIZE_IMAGES = Step("asset_3d.normalize_images", "normalizing_images", (0, 30),
                        "shared.pipeline.assets:normalize_images", compat_state="generating_images")
RECONSTRUCT = Step("asset_3d.reconstruct", "reconstructing_3d", (30, 70), "shared.pipeline.assets:reconstruct",
                   "reconstruct", compat_state="reconstructing_3d")
POST_PROCESS = Step("asset_3d.post_process", "post_processing", (70, 90), "shared.pipeline.assets:post_process",
                    compat_state="post_processing")
EXTRACT_FRAMES = Step("splat.extract_frames", "extracting_frames", (0, 10), "shared.pipeline.splat:extract_frames")
STRUCTURE_FROM_MOTION = Step("splat.structure_from_motion", "structure_from_motion", (10, 35),
                             "shared.pipeline.splat:structure_from_motion")
TRAIN_SPLATS = Step("splat.train", "training_splats", (35, 80), "shared.pipeline.splat:train_splats", "train")
CONVERT_SPLATS = Step("splat.convert", "converting", (80, 90), "shared.pipeline.splat:convert")
# Writing the manifest is the reference's last step of post-processing, hence its compat state.
FINALIZE = Step("orchestrator.finalize", "finalizing", (90, 100), "shared.pipeline.finalize:finalize",
                compat_state="post_processing")

PIPELINES: dict[str, tuple[Step, ...]] = {
    "env": (PLAN, GENERATE_SCENE, FINALIZE),
    "text_to_3d": (GENERATE_IMAGES, RECONSTRUCT, POST_PROCESS, FINALIZE),
    "image_to_3d": (NORMALIZE_IMAGES, RECONSTRUCT, POST_PROCESS, FINALIZE),
    "splat": (EXTRACT_FRAMES, STRUCTURE_FROM_MOTION, TRAIN_SPLATS, CONVERT_SPLATS, FINALIZE),
}

STEPS: tuple[Step, ...] = tuple(dict.fromkeys(step for steps in PIPELINES.values() for step in steps))
"""Every step once, in table order."""

BY_STAGE: dict[str, Step] = {step.stage: step for step in STEPS}

FIRST_STEPS: frozenset[Step] = frozenset(steps[0] for steps in PIPELINES.values())
"""Steps that start a job: their task claims the queued job (``run_stage(first=True)``)."""

PROVIDER_STAGE: dict[str, str] = {step.stage: step.provider_stage for step in STEPS if step.provider_stage}
"""Which provider stage does the work of each job stage."""

PROVIDER_STAGES: dict[str, tuple[str, ...]] = {
    kind: tuple(step.provider_stage for step in steps if step.provider_stage) for kind, steps in PIPELINES.items()
}
"""The provider stages of each job kind, in order: what a request may name in ``providers``."""
