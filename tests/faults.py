"""Fault-injection providers: the stubs, plus options that raise, crash, stall or hang on request.

They exist so failure handling can be exercised end to end through the real queues, and they must never
be offered by a production API (a caller could kill or hold a worker). They reach a server only through
the ``EXTRA_PROVIDERS`` setting, which ``tests/conftest.py`` and ``make reliability`` set for the
processes they start (``EXTRA_PROVIDERS`` below).
"""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import ProviderError
from shared.providers.base import EnvGenerator
from shared.providers.cloud import CloudProvider, InnerProviderOptions
from shared.providers.env_stub import StubEnvGenerator
from shared.providers.images_stub import StubImageGenerator, StubImagesOptions
from shared.providers.reconstruct_stub import StubReconstructor

if TYPE_CHECKING:
    import trimesh
    from PIL import Image

    from shared.assets.views import View
    from shared.config import Settings
    from shared.pipeline.context import StageContext

NAME = "faults"
EXTRA_PROVIDERS = ",".join(f"tests.faults:{cls}" for cls in (
    "FaultyEnvGenerator", "FaultyImageGenerator", "FaultyReconstructor", "CountdownCloudEnvGenerator"))


class FaultOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_message: str | None = Field(None, max_length=500, description="Raise ProviderError with this message.")
    crash_process: bool = Field(False, description="Kill the worker process mid-stage (a poison pill).")
    transient_faults: int = Field(0, ge=0, le=10, description="Fail with a network error on the first N tries.")
    sleep_s: float = Field(0.0, ge=0, le=60, description="Work this long first (0.1 s steps, each a checkpoint).")
    block_s: float = Field(0.0, ge=0, le=60, description="Write a scratch file, then hang this long with signals "
                           "held off, like a native call that never returns to Python: no checkpoint, deaf to the "
                           "soft time limit.")


class FaultyImagesOptions(StubImagesOptions, FaultOptions):
    pass


def inject(ctx: StageContext, options: FaultOptions) -> None:
    """The requested faults, in the order a real stage would meet them; returns when none stops the stage."""
    if options.crash_process:
        os._exit(70)
    if ctx.retry_number < options.transient_faults:
        raise ConnectionError(f"simulated network fault on try {ctx.retry_number + 1}")
    if options.fail_message:
        raise ProviderError(options.fail_message)
    if options.block_s:
        (ctx.workdir / "partial.bin").write_bytes(bytes(1024))  # what a native step leaves in its scratch
        _hang(options.block_s)
    deadline = time.monotonic() + options.sleep_s
    while (left := deadline - time.monotonic()) > 0:  # slow work that still honours cancel and time limits
        time.sleep(min(0.1, left))
        ctx.report(0.4 * (1 - left / options.sleep_s), "working")


def _hang(seconds: float) -> None:
    """Sleep with every signal blocked in this thread: only SIGKILL (Celery's hard time limit) ends it early.

    Signals that arrive meanwhile stay pending (or go to another thread) and take effect afterwards.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        time.sleep(seconds)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class FaultyEnvGenerator(StubEnvGenerator):
    name = NAME
    Options = FaultOptions

    def generate(self, ctx: StageContext, plan: dict[str, Any]) -> None:
        inject(ctx, self.options)
        super().generate(ctx, plan)


class FaultyImageGenerator(StubImageGenerator):
    name = NAME
    Options = FaultyImagesOptions

    def generate(self, ctx: StageContext, prompt: str, azimuths: list[float], seed: int) -> list[Image.Image]:
        inject(ctx, self.options)
        return super().generate(ctx, prompt, azimuths, seed)


class FaultyReconstructor(StubReconstructor):
    name = NAME
    Options = FaultOptions

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        inject(ctx, self.options)
        return super().reconstruct(ctx, views)


class CountdownCloudOptions(InnerProviderOptions):
    stage = "env"

    provider: str = "stub"
    polls: int = Field(1, ge=1, le=100, description="The poll that finds the outside job done.")
    transient_polls: list[int] = Field(default_factory=list, max_length=100,
                                       description="Polls that meet a dropped connection instead of an answer.")


class CountdownCloudEnvGenerator(CloudProvider, EnvGenerator):
    """A cloud provider whose outside job is a countdown of polls kept in the job's details, with dropped
    connections at the polls asked for: the cloud task's polling and fault handling, without a cloud."""

    name = "countdown_cloud"
    Options = CountdownCloudOptions
    options: CountdownCloudOptions

    @classmethod
    def poll_interval_s(cls, settings: Settings) -> float:
        return 0.01

    def submit(self, ctx: StageContext) -> str:
        return f"countdown-{ctx.job_id}"

    def poll(self, ctx: StageContext, handle: str) -> bool:
        count = int(ctx.job["details"].get("countdown_polls", 0)) + 1
        ctx.add_details({"countdown_polls": count})
        if count in self.options.transient_polls:
            raise ConnectionError(f"{handle}: connection dropped at poll {count}")
        return count >= self.options.polls

    def collect(self, ctx: StageContext, handle: str) -> None:
        ctx.note(f"{handle} finished")

    def cancel(self, ctx: StageContext, handle: str) -> None:
        ctx.note(f"{handle} stopped")

    def generate(self, ctx: StageContext, plan: dict[str, Any]) -> None:
        raise self.not_in_process()
