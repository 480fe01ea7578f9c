"""An instant environment: a ground plane and a box, enough to exercise the whole pipeline.

``fail_message`` makes it raise instead, ``crash_process`` kills its worker process, ``sleep_s`` makes
it slow and ``block_s`` makes it hang where no signal reaches it, so failure handling can be exercised
end to end through the real queues (fault injection is what a stub is for).
"""

from __future__ import annotations

import os
import signal
import time
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import ProviderError
from shared.providers.base import EnvGenerator


class StubEnvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_message: str | None = Field(None, max_length=500, description="Raise ProviderError with this message.")
    crash_process: bool = Field(False, description="Kill the worker process mid-stage (a poison pill).")
    transient_faults: int = Field(0, ge=0, le=10, description="Fail with a network error on the first N tries.")
    sleep_s: float = Field(0.0, ge=0, le=60, description="Work this long first (0.1 s steps, each a checkpoint).")
    block_s: float = Field(0.0, ge=0, le=60, description="Write a scratch file, then hang this long with signals "
                           "held off, like a native call that never returns to Python: no checkpoint, deaf to the "
                           "soft time limit.")


class StubEnvGenerator(EnvGenerator):
    name = "stub"
    Options = StubEnvOptions

    def generate(self, ctx, plan: dict[str, Any]) -> None:
        if self.options.crash_process:
            os._exit(70)
        if ctx.retry_number < self.options.transient_faults:
            raise ConnectionError(f"simulated network fault on try {ctx.retry_number + 1}")
        if self.options.fail_message:
            raise ProviderError(self.options.fail_message)
        if self.options.block_s:
            (ctx.workdir / "partial.bin").write_bytes(bytes(1024))  # what a native step leaves in its scratch
            _hang(self.options.block_s)
        deadline = time.monotonic() + self.options.sleep_s
        while (left := deadline - time.monotonic()) > 0:  # slow work that still honours cancel and time limits
            time.sleep(min(0.1, left))
            ctx.report(0.4 * (1 - left / self.options.sleep_s), "working")
        ctx.report(0.5, "scene built")
        ctx.put_artifact("scene.glb", stub_scene_glb(), "model/gltf-binary")


@cache
def stub_scene_glb() -> bytes:
    """The stub's scene, the same every time: built once per process, so a stub stage costs what the
    pipeline around it costs (the figure ``make bench`` reports), not a trimesh export."""
    import trimesh

    scene = trimesh.Scene()
    ground = trimesh.creation.box(extents=(20.0, 0.1, 20.0))
    ground.visual.face_colors = (90, 120, 80, 255)
    scene.add_geometry(ground, node_name="ground", geom_name="ground",
                       transform=trimesh.transformations.translation_matrix((0, -0.05, 0)))
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.visual.face_colors = (180, 90, 60, 255)
    scene.add_geometry(box, node_name="box", geom_name="box",
                       transform=trimesh.transformations.translation_matrix((0, 0.5, 0)))
    return scene.export(file_type="glb")


def _hang(seconds: float) -> None:
    """Sleep with every signal blocked in this thread: only SIGKILL (Celery's hard time limit) ends it early.

    Signals that arrive meanwhile stay pending (or go to another thread) and take effect afterwards.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        time.sleep(seconds)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
