"""The contract of a cloud provider: its stage's work runs outside this process, submitted once, then polled.

A cloud provider stands in for an ordinary provider of its stage (``EnvGenerator``, ``Reconstructor``…)
and names, in its options, the ordinary provider the outside job runs and that provider's options
(``InnerProviderOptions``, checked at submit). Choosing one sends its stage to the one generic cloud
task (``CLOUD_TASK``, ``workers/cloud/tasks.py``) on the provider's queue, which runs
``shared.pipeline.cloud.run_in_cloud``: ``submit`` the first time (the handle is recorded in the job's
details, and ``submit`` itself is idempotent, so a re-delivered message never starts a second, billed
job), then ``poll`` after every ``poll_interval_s`` until it is done, then ``collect`` what it wrote.
A worker never sleeps on a cloud job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared import queues
from shared.errors import ProviderError
from shared.providers.base import Provider
from shared.providers.registry import names, provider_class

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.pipeline.context import StageContext

CLOUD_TASK = "cloud.run_stage"
"""The Celery task of every stage whose provider is a cloud provider (arguments: job id, stage)."""


class InnerProviderOptions(BaseModel):
    """Options of a cloud provider: the ordinary provider its outside job runs (registered, and not a cloud
    provider itself) and that provider's options, checked at submit. A subclass sets ``stage`` and the
    ``provider`` field's default."""

    model_config = ConfigDict(extra="forbid")
    stage: ClassVar[str]

    provider: str
    options: dict[str, Any] = Field(default_factory=dict, description="That provider's options.")

    @model_validator(mode="after")
    def _runnable_inside(self) -> InnerProviderOptions:
        if self.provider not in names(self.stage):
            raise ValueError(f"unknown {self.stage} provider {self.provider!r} (known: {', '.join(names(self.stage))})")
        inner = provider_class(self.stage, self.provider)
        if issubclass(inner, CloudProvider):
            raise ValueError(f"the processing container cannot run the {self.provider} provider itself")
        inner.Options.model_validate(self.options)
        return self


class CloudProvider(Provider):
    """A provider whose work is a job elsewhere. A subclass also subclasses its stage's contract (for the
    stage and its name) and implements the four steps below; the stage's own method is never called."""

    queue = queues.SAGEMAKER
    task = CLOUD_TASK
    Options: ClassVar[type[InnerProviderOptions]]
    options: InnerProviderOptions

    @classmethod
    def poll_interval_s(cls, settings: Settings) -> float:
        """How long the cloud task waits between two polls."""
        raise NotImplementedError

    def submit(self, ctx: StageContext) -> str:
        """Start the outside job for ``ctx``'s stage and return its handle; for the same job and stage, the
        same handle and no second job, however often it is called."""
        raise NotImplementedError

    def poll(self, ctx: StageContext, handle: str) -> bool:
        """True once the outside job has finished; False while it runs (its state reported through
        ``ctx.report``, which raises ``JobCanceled`` once the job is canceled). A failed job is a ProviderError."""
        raise NotImplementedError

    def collect(self, ctx: StageContext, handle: str) -> None:
        """Check and record what the finished outside job wrote (artifacts, notes): the stage's result."""
        raise NotImplementedError

    def cancel(self, ctx: StageContext, handle: str) -> None:
        """Stop the outside job: the job it works for was canceled."""
        raise NotImplementedError

    def not_in_process(self) -> ProviderError:
        """The error of the stage contract's method, which a cloud provider cannot run here."""
        return ProviderError(f"the {self.name} {self.stage} provider runs outside this process, submitted and "
                             f"watched by {self.task!r} on the {self.queue} queue; it cannot run in-process")
