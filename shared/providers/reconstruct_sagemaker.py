"""The cloud reconstructor: the mesh is made inside a SageMaker Processing job, not in this process.

Choosing it routes the reconstruct stage of a text_to_3d / image_to_3d job to the ``sagemaker``
queue, whose task submits and polls the processing job (``shared.cloud.sagemaker``). The container
reads the views the first stage already normalised into the object store and writes
``reconstruction.glb`` next to them; post-processing then runs here as usual. Which reconstructor
the container runs, and with which options, is this provider's options, checked at submit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from shared import queues
from shared.errors import ProviderError
from shared.providers.base import Reconstructor
from shared.providers.registry import InnerProviderOptions

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.pipeline.context import StageContext


class SageMakerReconstructOptions(InnerProviderOptions):
    stage = "reconstruct"

    provider: str = Field("relief", description="The reconstruct provider the processing container runs.")


class SageMakerReconstructor(Reconstructor):
    name = "sagemaker"
    queue = queues.SAGEMAKER
    task = "asset_3d.reconstruct_cloud"
    Options = SageMakerReconstructOptions

    @classmethod
    def check_available(cls, settings) -> None:
        from shared.cloud.sagemaker import check_available

        check_available(settings, "sagemaker reconstruct")

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        raise ProviderError(
            "the sagemaker reconstruct provider runs as a SageMaker Processing job, submitted and watched by "
            f"{self.task!r} on the sagemaker queue; it cannot reconstruct in-process"
        )
