"""SageMaker Processing as a cloud provider: the stage runs in a container, with an ordinary provider.

The container runs ``infra/sagemaker/entrypoint_processing.py`` with the job cut to what it runs
(``ProcessingJobInput``: the cloud provider replaced by the one its options name). It runs the same
stage functions the workers run (the steps of ``CONTAINER_STAGES``, from ``shared.pipeline.steps``)
and writes ``jobs/<job_id>/…`` to the object store the service uses: for an env job the whole scene
(its manifest last, as ``CLOUD_SCENE``), for a text_to_3d / image_to_3d job only
``reconstruction.glb`` from the views already stored there (``CLOUD_RECONSTRUCTION`` last). The last
file's presence is the proof that the rest is there; ``collect`` checks it and records what was built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.cloud import sagemaker
from shared.errors import ProviderError
from shared.pipeline.context import job_key
from shared.pipeline.steps import PIPELINES, Step
from shared.providers.cloud import CloudProvider
from shared.providers.registry import names, provider_class

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.pipeline.context import StageContext

# The container's input, in the bucket, when too long for an environment value.
JOB_INPUT_ARTIFACT = "processing_input.json"
# Written last by the container: the manifest of the scene it built (the job's own manifest.json is
# the finalize stage's alone).
CLOUD_SCENE = "cloud_scene.json"
# Written last by the container after reconstruction.glb: what it wrote, by which provider.
CLOUD_RECONSTRUCTION = "cloud_reconstruction.json"
JobKind = Literal["env", "text_to_3d", "image_to_3d"]
ASSET_KINDS = frozenset({"text_to_3d", "image_to_3d"})
# The provider stages the container runs for each kind (an asset job's views are made before, its
# post-processing after; an env job's plan is made again from the plan it is given).
CONTAINER_STAGES: dict[str, tuple[str, ...]] = {
    "env": ("plan", "env"),
    "text_to_3d": ("reconstruct",),
    "image_to_3d": ("reconstruct",),
}


def container_steps(kind: str) -> tuple[Step, ...]:
    """The steps of ``kind`` the container runs, in order."""
    return tuple(step for step in PIPELINES[kind] if step.provider_stage in CONTAINER_STAGES[kind])


def _is_cloud(stage: str, name: str) -> bool:
    return issubclass(provider_class(stage, name), CloudProvider)


class ProcessingRequest(BaseModel):
    """The part of a job request the container needs; the rest of the record stays behind."""

    model_config = ConfigDict(extra="ignore")

    prompt: str | None = None
    plan: dict[str, Any] | None = None
    seed: int = 0
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ProcessingJobInput(BaseModel):
    """What travels to the container, and what it checks on arrival: a job record cut to what it runs."""

    model_config = ConfigDict(extra="ignore")

    job_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    kind: JobKind = "env"
    request: ProcessingRequest
    providers: dict[str, str]
    created_at: str | None = None

    @model_validator(mode="after")
    def _runnable(self) -> ProcessingJobInput:
        stages = CONTAINER_STAGES[self.kind]
        if set(self.providers) != set(stages):
            raise ValueError(f"providers of a {self.kind} job must name exactly the {' and '.join(stages)} providers")
        for stage, name in self.providers.items():
            if name not in names(stage):
                raise ValueError(f"unknown {stage} provider {name!r} (known: {', '.join(names(stage))})")
            if _is_cloud(stage, name):
                raise ValueError(f"the container runs a local {stage} provider; resolve {name!r} before submitting")
        return self


def container_job_input(job_input: dict[str, Any]) -> ProcessingJobInput:
    """The job as the container will run it: cut to the stages it runs, a cloud provider replaced by the
    one it names (with that one's options)."""
    kind = job_input.get("kind") or "env"
    if kind not in CONTAINER_STAGES:
        raise ValueError(f"a {kind!r} job has no SageMaker processing path (only {', '.join(CONTAINER_STAGES)})")
    stages = CONTAINER_STAGES[kind]
    given = job_input.get("providers") or {}
    request = dict(job_input.get("request") or {})
    all_options = request.get("options") or {}
    providers = {stage: given[stage] for stage in stages if stage in given}
    options = {stage: all_options[stage] for stage in stages if stage in all_options}
    for stage, name in list(providers.items()):
        cls = provider_class(stage, name) if name in names(stage) else None
        if cls is not None and issubclass(cls, CloudProvider):
            inner = cls.Options.model_validate(options.get(stage) or {})
            providers[stage], options[stage] = inner.provider, inner.options
    request["options"] = options
    return ProcessingJobInput.model_validate({**job_input, "kind": kind, "providers": providers, "request": request})


def submit_processing_job(client, settings: Settings, job_id: str, job_input: dict[str, Any],
                          output_s3_uri: str) -> str:
    """Start (once) the processing job that runs ``job_input`` (the record of job ``job_id``, or any dict
    with its ``job_id``, ``kind``, ``request`` and ``providers``); its name. The input is checked before any
    AWS call (``shared.cloud.sagemaker.start_processing_job``)."""
    job = container_job_input(job_input)
    if job.job_id != job_id:
        raise ValueError(f"job_input is job {job.job_id!r}, not {job_id!r}")
    return sagemaker.start_processing_job(client, settings, job.job_id, job.model_dump_json(exclude_none=True),
                                          output_s3_uri, job_key(job.job_id, JOB_INPUT_ARTIFACT))


class SageMakerProcessing(CloudProvider):
    """The SageMaker side of a cloud provider; a subclass adds its stage contract and what it collects."""

    name = "sagemaker"
    label: ClassVar[str] = "sagemaker"
    """How the availability messages name the provider."""

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        sagemaker.check_available(settings, cls.label)

    @classmethod
    def poll_interval_s(cls, settings: Settings) -> float:
        return settings.sagemaker_poll_interval_s

    def container_input(self, ctx: StageContext) -> dict[str, Any]:
        """The job as sent to the container, before it is cut to what it runs."""
        return dict(ctx.job)

    def _client(self, settings: Settings):
        client = getattr(self, "_sagemaker", None)
        if client is None:
            client = self._sagemaker = sagemaker.sagemaker_client(settings)
        return client

    def submit(self, ctx: StageContext) -> str:
        self.require_runtime(ctx.settings)  # a worker configured unlike the API fails the job saying what is missing
        return submit_processing_job(self._client(ctx.settings), ctx.settings, ctx.job_id, self.container_input(ctx),
                                     ctx.settings.resolved_object_store_url)

    def poll(self, ctx: StageContext, handle: str) -> bool:
        status, reason = sagemaker.describe(self._client(ctx.settings), handle)
        if status in ("Failed", "Stopped"):
            raise ProviderError(f"SageMaker processing job {handle} {status.lower()}: {reason or 'no reason given'}")
        if status != "Completed":
            ctx.report(0.2 if status == "InProgress" else 0.1, f"SageMaker processing job {handle}: {status}")
            return False
        return True

    def cancel(self, ctx: StageContext, handle: str) -> None:
        sagemaker.stop(self._client(ctx.settings), handle)
