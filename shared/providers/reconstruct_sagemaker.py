"""The cloud reconstructor: the mesh is made inside a SageMaker Processing job, not in this process.

Choosing it sends the reconstruct stage of a text_to_3d / image_to_3d job to the cloud task on the
``sagemaker`` queue, which submits and polls the processing job (``shared.providers.cloud``). The
container reads the views the first stage already normalised into the object store and writes
``reconstruction.glb`` next to them; post-processing then runs here as usual. Which reconstructor
the container runs, and with which options, is this provider's options, checked at submit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from shared.errors import ProviderError
from shared.pipeline.context import job_key
from shared.providers.base import Reconstructor
from shared.providers.cloud import InnerProviderOptions
from shared.providers.sagemaker_processing import CLOUD_RECONSTRUCTION, SageMakerProcessing

if TYPE_CHECKING:
    import trimesh

    from shared.assets.views import View
    from shared.pipeline.context import StageContext


class SageMakerReconstructOptions(InnerProviderOptions):
    stage = "reconstruct"

    provider: str = Field("relief", description="The reconstruct provider the processing container runs.")


class SageMakerReconstructor(SageMakerProcessing, Reconstructor):
    label = "sagemaker reconstruct"
    Options = SageMakerReconstructOptions

    def collect(self, ctx: StageContext, handle: str) -> None:
        """Record ``reconstruction.glb`` as the container's marker describes it, once the object matches."""
        from shared.pipeline.assets import RECONSTRUCTION

        if not ctx.objects.exists(job_key(ctx.job_id, CLOUD_RECONSTRUCTION)):
            raise ProviderError(f"SageMaker processing job {handle} completed without writing {CLOUD_RECONSTRUCTION}")
        marker = ctx.read_json_artifact(CLOUD_RECONSTRUCTION)
        info = (marker.get("artifacts") or {}).get(RECONSTRUCTION)
        key = job_key(ctx.job_id, RECONSTRUCTION)
        if (not info or info.get("key") != key or not ctx.objects.exists(key)
                or ctx.objects.size(key) != info.get("bytes")):
            raise ProviderError(f"SageMaker processing job {handle} completed without a complete {RECONSTRUCTION}")
        ctx.jobs.add_artifacts(ctx.job_id, {RECONSTRUCTION: info})
        for note in marker.get("notes") or []:
            ctx.note(note)
        ctx.note(f"mesh reconstructed by {marker.get('provider', '?')!r} in SageMaker processing job {handle}")
        ctx.report(1.0, "reconstruction stored")

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh:
        raise self.not_in_process()
