"""Which tasks make up each job kind, and the Celery chain that runs them.

Signatures are built by task name, so the sender (the API) imports no worker module. Task ids are
derived from the job id: the job record can list them before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from celery import Celery, chain
from pydantic import ValidationError

from shared import queues
from shared.config import Settings
from shared.errors import InvalidOptions, InvalidRequest, validation_detail
from shared.providers.registry import provider_class


@dataclass(frozen=True)
class Step:
    task: str
    provider_stage: str | None = None
    """The stage whose provider decides this step's queue; None runs on the task's routed queue."""


PIPELINES: dict[str, tuple[Step, ...]] = {
    "env": (Step("orchestrator.plan"), Step("env_gen.run_env", "env"), Step("orchestrator.finalize")),
    "text_to_3d": (
        Step("asset_3d.generate_images", "images"),
        Step("asset_3d.reconstruct", "reconstruct"),
        Step("asset_3d.post_process"),
        Step("orchestrator.finalize"),
    ),
    "image_to_3d": (
        Step("asset_3d.normalize_images"),
        Step("asset_3d.reconstruct", "reconstruct"),
        Step("asset_3d.post_process"),
        Step("orchestrator.finalize"),
    ),
    "splat": (
        Step("splat.extract_frames"),
        Step("splat.structure_from_motion"),
        Step("splat.train", "train"),
        Step("splat.convert"),
        Step("orchestrator.finalize"),
    ),
}

PROVIDER_STAGES: dict[str, tuple[str, ...]] = {
    "env": ("plan", "env"),
    "text_to_3d": ("images", "reconstruct"),
    "image_to_3d": ("reconstruct",),
    "splat": ("train",),
}

ERROR_TASK = "orchestrator.mark_failed"


def default_providers(kind: str, settings: Settings) -> dict[str, str]:
    defaults = {
        "plan": settings.default_plan_provider,
        "env": settings.default_env_provider,
        "train": settings.default_train_provider,
        "images": settings.default_images_provider,
        "reconstruct": settings.default_reconstruct_provider,
    }
    return {stage: defaults[stage] for stage in PROVIDER_STAGES[kind]}


def resolve_providers(
    kind: str, requested: dict[str, str], options: dict[str, dict[str, Any]], settings: Settings
) -> dict[str, str]:
    """The provider of every stage of ``kind``, checked now so a bad choice is a 422, not a failed job."""
    if kind not in PIPELINES:
        raise InvalidRequest(f"job kind {kind!r} is not available on this server")
    stages = PROVIDER_STAGES[kind]
    for stage in (*requested, *options):
        if stage not in stages:
            raise InvalidRequest(f"stage {stage!r} is not part of a {kind!r} job (stages: {', '.join(stages)})")
    providers = {**default_providers(kind, settings), **requested}
    for stage, name in providers.items():
        provider = provider_class(stage, name)
        provider.check_available(settings)
        try:
            provider.Options.model_validate(options.get(stage) or {})
        except ValidationError as error:
            raise InvalidOptions(f"invalid options for {stage} provider {name!r}", validation_detail(error)) from None
    return providers


def task_id(job_id: str, task: str) -> str:
    return f"{job_id}:{task}"


def task_ids(kind: str, job_id: str) -> list[str]:
    return [task_id(job_id, step.task) for step in PIPELINES[kind]]


def build_chain(app: Celery, job: dict[str, Any]):
    """The job's chain, each step on its queue, with the failure callback attached to every step."""
    signatures = []
    for step in PIPELINES[job["kind"]]:
        options: dict[str, Any] = {"task_id": task_id(job["job_id"], step.task)}
        task_name = step.task
        if step.provider_stage:
            provider = provider_class(step.provider_stage, job["providers"][step.provider_stage])
            task_name = provider.task or step.task
            options["queue"] = provider.queue
            if provider.queue not in queues.ALL_QUEUES:
                raise ValueError(f"provider for {step.provider_stage!r} names unknown queue {provider.queue!r}")
        signatures.append(app.signature(task_name, args=(job["job_id"],), immutable=True, **options))
    return chain(*signatures)


def enqueue(app: Celery, job: dict[str, Any]) -> None:
    """Send the job's chain; the error callback marks the job failed with the exception's message."""
    # The API never reads Celery results (the job store is the status of record); asking for one would
    # subscribe this process to the task's result channel: a round trip per submission, never dropped.
    build_chain(app, job).apply_async(link_error=app.signature(ERROR_TASK, args=(job["job_id"],)),
                                      ignore_result=True)
