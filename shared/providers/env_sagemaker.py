"""The cloud env provider: the scene is built inside a SageMaker Processing job, not in this process.

Choosing it sends the env stage to the cloud task on the ``sagemaker`` queue, which submits and polls
the processing job (``shared.providers.cloud``). Inside the container an ordinary env provider does
the work; which one, and with which options, is this provider's options, checked when the job is
submitted so a typo is a 422 rather than a cloud job that fails minutes later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from shared.errors import ProviderError
from shared.providers.base import EnvGenerator
from shared.providers.cloud import InnerProviderOptions
from shared.providers.sagemaker_processing import CLOUD_SCENE, SageMakerProcessing
from shared.schemas.manifest import artifact_files

if TYPE_CHECKING:
    from shared.pipeline.context import StageContext


class SageMakerEnvOptions(InnerProviderOptions):
    stage = "env"

    provider: str = Field("procedural", description="The env provider the processing container runs.")


class SageMakerEnvGenerator(SageMakerProcessing, EnvGenerator):
    Options = SageMakerEnvOptions

    def container_input(self, ctx: StageContext) -> dict[str, Any]:
        """The job with the plan the planning stage stored: the container builds the scene of that plan."""
        return {**ctx.job, "request": {**ctx.request, "plan": ctx.read_json_artifact("plan.json")}}

    def collect(self, ctx: StageContext, handle: str) -> None:
        built = ctx.read_json_artifact(CLOUD_SCENE)
        produced = {n: info for n, info in artifact_files(built).items() if n != "plan.json"}
        if "scene.glb" not in produced:
            raise ProviderError(f"SageMaker processing job {handle} completed without a scene.glb")
        ctx.jobs.add_artifacts(ctx.job_id, produced)
        ctx.note(f"scene built by SageMaker processing job {handle}")

    def generate(self, ctx: StageContext, plan: dict[str, Any]) -> None:
        raise self.not_in_process()
