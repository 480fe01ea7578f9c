"""Names of what a splat job's stages leave in the object store, and fetching them into a scratch folder.

Stages may run on different machines, so each one starts from the object store: these helpers
are the only way a stage (or a trainer) reads what an earlier stage wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.errors import ProviderError
from shared.pipeline.context import job_key

if TYPE_CHECKING:
    from shared.pipeline.context import StageContext

FRAMES_DIR = "frames"
FRAMES_INDEX = "frames.json"
SPARSE_DIR = "sparse/0"
SFM_REPORT = "sfm.json"
POINT_CLOUD = "point_cloud.ply"
TRAINING_REPORT = "training.json"
SCENE_SPLAT = "scene.splat"
SCENE_SPZ = "scene.spz"
SPLAT_REPORT = "splat.json"
THUMBNAIL = "thumbnail.jpg"
HELDOUT_FRAME = "evaluation/heldout_frame.jpg"
HELDOUT_RENDER = "evaluation/heldout_render.jpg"


def heldout_names(registered: list[str], every: int) -> list[str]:
    """Every ``every``-th registered frame in capture order, the first included (3DGS's benchmark split)."""
    return [name for i, name in enumerate(sorted(registered)) if i % every == 0]


def heldout_frames(ctx: StageContext) -> list[str]:
    """The frames every trainer leaves out of training, so that the stage can score the result on them."""
    return heldout_names(ctx.read_json_artifact(SFM_REPORT)["registered_frames"], ctx.settings.splat_holdout_every)


def frame_name(number: int) -> str:
    return f"frame_{number:04d}.jpg"


def put_json(ctx: StageContext, name: str, value: dict[str, Any]) -> None:
    ctx.put_artifact(name, json.dumps(value, indent=2, sort_keys=True).encode(), "application/json")


def download_frames(ctx: StageContext, dest: Path, names: list[str] | None = None) -> list[str]:
    """Fetch the job's frames (all, in capture order, or ``names``) into ``dest``; returns their names.

    A frame already in ``dest`` is not fetched again: frames never change once their stage stored them,
    so the trainer and the stage's evaluation share one local copy."""
    wanted = names if names is not None else [f["name"] for f in ctx.read_json_artifact(FRAMES_INDEX)["frames"]]
    dest.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        if not (dest / name).exists():
            ctx.objects.download(job_key(ctx.job_id, f"{FRAMES_DIR}/{name}"), dest / name)
    return wanted


def download_model(ctx: StageContext, dest: Path) -> Path:
    """Fetch the COLMAP sparse model (``sparse/0/*.bin``) into ``dest`` (files already there are kept, as frames)."""
    prefix = job_key(ctx.job_id, f"{SPARSE_DIR}/")
    keys = ctx.objects.list(prefix)
    if not keys:
        raise ProviderError(f"the job has no sparse model under {SPARSE_DIR}/: structure from motion has not run")
    dest.mkdir(parents=True, exist_ok=True)
    for key in keys:
        if not (dest / key.removeprefix(prefix)).exists():
            ctx.objects.download(key, dest / key.removeprefix(prefix))
    return dest
