"""A stage whose provider is a cloud provider (``shared.providers.cloud``): submit once, then poll.

The stage function of the generic cloud task. It knows the contract only, not any cloud: which
provider, and so which cloud, is the job's choice for the step's provider stage.
"""

from __future__ import annotations

from shared.errors import JobCanceled
from shared.jobs import JobRecord
from shared.pipeline.context import StageContext
from shared.providers.cloud import CloudProvider
from shared.providers.registry import provider_class

CLOUD_JOBS = "cloud_jobs"
"""The job details' record of each stage's outside job: ``{stage: {"provider": name, "handle": handle}}``."""


def cloud_provider_class(job: JobRecord, provider_stage: str) -> type[CloudProvider]:
    """The class of the job's provider for ``provider_stage``, which must be a cloud provider."""
    cls = provider_class(provider_stage, job["providers"][provider_stage])
    if not issubclass(cls, CloudProvider):
        raise TypeError(f"{provider_stage} provider {cls.name!r} of job {job['job_id']} is not a cloud provider")
    return cls


def submitted_handle(job: JobRecord, stage: str) -> str | None:
    """The handle of the outside job an earlier delivery of ``stage`` submitted and recorded, if any."""
    return ((job.get("details") or {}).get(CLOUD_JOBS) or {}).get(stage, {}).get("handle")


def run_in_cloud(ctx: StageContext, provider_stage: str) -> bool:
    """Submit the stage's outside job (once per job) or look at it; True once its result is recorded.

    The caller re-schedules itself while this returns False. A job canceled while its outside job runs
    stops that job (``ctx.report`` in ``poll`` raises ``JobCanceled``), so nothing keeps billing for it.
    """
    provider = cloud_provider_class(ctx.job, provider_stage)(ctx.provider_options(provider_stage))
    handle = submitted_handle(ctx.job, ctx.stage)
    if handle is None:
        handle = provider.submit(ctx)
        ctx.add_details({CLOUD_JOBS: {ctx.stage: {"provider": provider.name, "handle": handle}}})
    try:
        if not provider.poll(ctx, handle):
            return False
    except JobCanceled:
        provider.cancel(ctx, handle)
        raise
    provider.collect(ctx, handle)
    return True
