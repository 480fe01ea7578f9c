"""Splat tasks: video -> frames -> COLMAP sparse model -> 3D Gaussians -> ``scene.splat``."""

from __future__ import annotations

from shared.celery_app import app
from shared.pipeline import splat
from workers.stage_task import run_stage_task


@app.task(name="splat.extract_frames", bind=True)
def extract_frames(self, job_id: str) -> None:
    run_stage_task(self, job_id, "extracting_frames", splat.EXTRACT_PROGRESS, splat.extract_frames, first=True)


@app.task(name="splat.structure_from_motion", bind=True)
def structure_from_motion(self, job_id: str) -> None:
    run_stage_task(self, job_id, "structure_from_motion", splat.SFM_PROGRESS, splat.structure_from_motion)


@app.task(name="splat.train", bind=True)
def train(self, job_id: str) -> None:
    run_stage_task(self, job_id, "training_splats", splat.TRAIN_PROGRESS, splat.train_splats)


@app.task(name="splat.convert", bind=True)
def convert(self, job_id: str) -> None:
    run_stage_task(self, job_id, "converting", splat.CONVERT_PROGRESS, splat.convert)
