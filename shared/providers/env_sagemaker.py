"""The cloud env provider: the scene is built inside a SageMaker Processing job, not in this process.

Choosing it routes the env stage to the ``sagemaker`` queue, whose task submits and polls the
processing job (``shared.cloud.sagemaker``). Inside the container an ordinary env provider does the
work; which one, and with which options, is this provider's options, checked when the job is
submitted so a typo is a 422 rather than a cloud job that fails minutes later.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared import queues
from shared.errors import ProviderError
from shared.providers.base import EnvGenerator
from shared.providers.registry import InnerProviderOptions


class SageMakerEnvOptions(InnerProviderOptions):
    stage = "env"

    provider: str = Field("procedural", description="The env provider the processing container runs.")


class SageMakerEnvGenerator(EnvGenerator):
    name = "sagemaker"
    queue = queues.SAGEMAKER
    task = "env_gen.run_env_cloud"
    Options = SageMakerEnvOptions

    @classmethod
    def check_available(cls, settings) -> None:
        from shared.cloud.sagemaker import check_available

        check_available(settings)

    def generate(self, ctx, plan: dict[str, Any]) -> None:
        raise ProviderError(
            "the sagemaker env provider runs as a SageMaker Processing job, submitted and watched by "
            f"{self.task!r} on the sagemaker queue; it cannot generate a scene in-process"
        )
