"""The Celery chain that runs a job's steps (``shared.pipeline.steps``), and the providers it runs.

Signatures are built by task name, so the sender (the API) imports no worker module. Task ids are
derived from the job id: the job record can list them before anything is sent.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery, Signature
from pydantic import BaseModel, ValidationError

from shared import queues
from shared.assets.segment_options import SEGMENT_OPTIONS, SegmentOptions
from shared.config import Settings
from shared.errors import InvalidOptions, InvalidRequest, validation_detail
from shared.jobs import JobRecord
from shared.pipeline.steps import PIPELINES, PROVIDER_STAGES
from shared.providers.base import Provider
from shared.providers.registry import provider_class

# Options of a job's stages that run no provider, by kind: validated at submit like a provider's.
STAGE_OPTIONS: dict[str, dict[str, type[BaseModel]]] = {
    "image_to_3d": {SEGMENT_OPTIONS: SegmentOptions},
}

ERROR_TASK = "orchestrator.mark_failed"


def default_providers(kind: str, settings: Settings) -> dict[str, str]:
    """Each stage's provider when the request names none. image_to_3d has a reconstructor of its own: the
    text_to_3d default may rebuild its own images stage's spec, which photographs do not have."""
    defaults = {
        "plan": settings.default_plan_provider,
        "env": settings.default_env_provider,
        "train": settings.default_train_provider,
        "images": settings.default_images_provider,
        "reconstruct": (settings.default_image_reconstruct_provider if kind == "image_to_3d"
                        else settings.default_reconstruct_provider),
    }
    return {stage: defaults[stage] for stage in PROVIDER_STAGES[kind]}


def _paired(providers: dict[str, str], requested: dict[str, str], settings: Settings) -> dict[str, str]:
    """Providers whose ``needs`` hold. A defaulted reconstructor that cannot work with the requested images
    provider (the factory one needs the factory's spec) gives way to the image reconstructor default, as
    it would for photographs; any other mismatch was asked for, and is a 422."""
    for stage, name in list(providers.items()):
        for other, wanted in provider_class(stage, name).needs.items():
            if providers.get(other) == wanted:
                continue
            if stage in requested or stage != "reconstruct":
                raise InvalidRequest(f"{stage} provider {name!r} needs {other} provider {wanted!r}, "
                                     f"not {providers.get(other)!r}")
            providers[stage] = settings.default_image_reconstruct_provider
    return providers


def resolve_providers(
    kind: str, requested: dict[str, str], options: dict[str, dict[str, Any]], settings: Settings
) -> dict[str, str]:
    """The provider of every stage of ``kind``, checked now so a bad choice is a 422, not a failed job."""
    if kind not in PIPELINES:
        raise InvalidRequest(f"job kind {kind!r} is not available on this server")
    stages, own = PROVIDER_STAGES[kind], STAGE_OPTIONS.get(kind, {})
    for stage in (*requested, *options):
        if stage not in stages and (stage in requested or stage not in own):
            raise InvalidRequest(f"stage {stage!r} is not part of a {kind!r} job (stages: {', '.join(stages)})")
    for stage, model in own.items():
        try:
            model.model_validate(options.get(stage) or {})
        except ValidationError as error:
            raise InvalidOptions(f"invalid options for the {stage} stage", validation_detail(error)) from None
    providers = _paired({**default_providers(kind, settings), **requested}, requested, settings)
    for stage, name in providers.items():
        provider = provider_class(stage, name)
        provider.check_available(settings)
        try:
            provider.Options.model_validate(options.get(stage) or {})
        except ValidationError as error:
            raise InvalidOptions(f"invalid options for {stage} provider {name!r}", validation_detail(error)) from None
    return providers


def checks_request(providers: dict[str, str]) -> bool:
    """Whether any of these providers looks at the request at submit: a caller on an event loop then runs
    ``check_request`` in a thread (the look may import a mesh library, seconds on a cold process)."""
    return any(_looks_at_request(stage, name) for stage, name in providers.items())


@cache
def _looks_at_request(stage: str, name: str) -> bool:
    """Whether the provider overrides ``Provider.check_request`` (asked once per provider, not per submission)."""
    return any("check_request" in vars(cls) for cls in provider_class(stage, name).__mro__ if cls is not Provider)


def check_request(providers: dict[str, str], request: dict[str, Any], settings: Settings) -> None:
    """Every provider's look at the request it will get (``Provider.check_request``): a 422 now, not a failed job."""
    for stage, name in providers.items():
        provider_class(stage, name).check_request(request, settings)


def task_id(job_id: str, task: str) -> str:
    return f"{job_id}:{task}"


def task_ids(kind: str, job_id: str) -> list[str]:
    return [task_id(job_id, step.task) for step in PIPELINES[kind]]


def is_pipeline_job(job: JobRecord) -> bool:
    """Whether the job runs as its kind's chain (S3 workflow items run inside one workflow task instead)."""
    return job["kind"] in PIPELINES and job.get("celery_task_ids") == task_ids(job["kind"], job["job_id"])


def resume_index(job: JobRecord) -> int | None:
    """The step to send a running job from when its messages are lost: the first whose stage has not
    finished (recorded no timing; ``shared.pipeline.runner``). None when every stage has finished."""
    finished = job.get("timings") or {}
    for index, step in enumerate(PIPELINES[job["kind"]]):
        if step.stage not in finished:
            return index
    return None


def step_signatures(app: Celery, job: JobRecord) -> list[Signature]:
    """One signature per step: by name, on its queue, immutable (a stage reads the job, not the previous
    result), each with the failure callback that marks the job failed with the exception's message.

    No step stores a Celery result: the job store is the status of record, and a stored result is a
    read and a transaction on Redis per stage that nobody reads. (A skipped stage still records
    ``IGNORED`` itself; ``workers/stage_task.py``.)
    """
    errback = app.signature(ERROR_TASK, args=(job["job_id"],))
    signatures = []
    for step in PIPELINES[job["kind"]]:
        args: tuple[str, ...]
        options: dict[str, Any] = {"task_id": task_id(job["job_id"], step.task), "link_error": [errback],
                                   "ignore_result": True}
        task_name, args = step.task, (job["job_id"],)
        if step.provider_stage:
            provider = provider_class(step.provider_stage, job["providers"][step.provider_stage])
            if provider.task:  # a task of the provider's own (the cloud one) serves many stages: it is told which
                task_name, args = provider.task, (job["job_id"], step.stage)
            options["queue"] = provider.queue
            if provider.queue not in queues.ALL_QUEUES:
                raise ValueError(f"provider for {step.provider_stage!r} names unknown queue {provider.queue!r}")
        signatures.append(app.signature(task_name, args=args, immutable=True, **options))
    return signatures


def enqueue(app: Celery, job: JobRecord, start: int = 0, countdown: float | None = None,
            producer: Any = None) -> None:
    """Send the job's steps from ``start`` on as one message: the first step, carrying the rest.

    This is the message ``celery.chain`` sends (the remaining steps last-first in its ``chain`` field,
    which the worker pops after each success), built directly: the chain's per-send cloning and
    freezing of every step was a fifth of what a submission cost. Asking for no result also keeps the
    sender off the task's result channel, which would be a round trip per submission. ``producer``:
    send through it (within its publish batch) instead of one from the app's pool.
    """
    first, *rest = step_signatures(app, job)[start:]
    first.apply_async(chain=rest[::-1], countdown=countdown, producer=producer)
