"""One base class per pipeline stage: the contract a provider fulfils.

Provider modules import only light things at module level (pydantic, our own code); torch,
diffusers and the like are imported inside methods, so that the API can read a provider's queue
and options model without pulling in a GPU stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from shared import queues
from shared.errors import ProviderError, ProviderUnavailable

if TYPE_CHECKING:
    from pathlib import Path

    import trimesh
    from PIL import Image

    from shared.assets.prompts import ViewsOptions
    from shared.assets.views import View
    from shared.config import Settings
    from shared.pipeline.context import StageContext


class NoOptions(BaseModel):
    """Options model of a provider that takes none; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class Provider:
    """What every provider declares: where it runs and which options it accepts."""

    stage: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "1"
    queue: ClassVar[str] = queues.CPU
    task: ClassVar[str | None] = None
    """The Celery task that runs this provider, when not its stage's usual one (e.g. a cloud submitter)."""
    Options: ClassVar[type[BaseModel]] = NoOptions
    needs: ClassVar[dict[str, str]] = {}
    """Providers the job's other stages must use (stage -> name): one that consumes another's artifact."""

    @classmethod
    def check_available(cls, settings: Settings) -> None:
        """Raise ``ProviderUnavailable`` when this server cannot run the provider (checked at submit)."""

    @classmethod
    def check_request(cls, request: dict[str, Any], settings: Settings) -> None:
        """At submit, with the request as it will be stored: raise ``InvalidRequest`` for input this
        provider will certainly refuse, so the client gets a 422 instead of a failed job."""

    @classmethod
    def check_runtime(cls, settings: Settings) -> None:
        """On the worker, before any work: raise ``ProviderUnavailable`` if packages or models are missing."""

    def require_runtime(self, settings: Settings) -> None:
        """``check_available`` and ``check_runtime`` as the stage's failure: on a worker (whose settings may
        differ from the API's), a missing setting, package or model fails the job clearly."""
        try:
            self.check_available(settings)
            self.check_runtime(settings)
        except ProviderUnavailable as unavailable:
            raise ProviderError(str(unavailable)) from None

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = self.Options.model_validate(options or {})


class Planner(Provider):
    """Stage ``plan``: turns a prompt into a ScenePlan (as a JSON-able dict)."""

    stage = "plan"

    def plan(self, ctx: StageContext, prompt: str, seed: int) -> dict[str, Any]:
        raise NotImplementedError


class EnvGenerator(Provider):
    """Stage ``env``: builds ``scene.glb`` (and ``thumbnail.png``) from a plan via ``ctx``."""

    stage = "env"

    def generate(self, ctx: StageContext, plan: dict[str, Any]) -> None:
        raise NotImplementedError


class SplatTrainer(Provider):
    """Stage ``train``: Gaussians from the job's sparse model (``sparse/0/*``) and frames (``frames/*``).

    Returns a local 3DGS PLY (INRIA layout) and facts about the training; the stage validates the
    file and stores it as ``point_cloud.ply``, so every trainer's output passes the same checks.
    """

    stage = "train"

    def train(self, ctx: StageContext) -> tuple[Path, dict[str, Any]]:
        raise NotImplementedError


class ImageGenerator(Provider):
    """Stage ``images`` (text_to_3d): pictures of the prompt's object, one per azimuth, in that order.

    The pictures may have any size and background; the stage cuts the object out of each and
    normalises them like uploaded photos, so a generator only has to picture the object plainly.
    """

    stage = "images"
    options: ViewsOptions

    def generate(self, ctx: StageContext, prompt: str, azimuths: list[float], seed: int) -> list[Image.Image]:
        raise NotImplementedError


class Reconstructor(Provider):
    """Stage ``reconstruct``: a mesh from the normalised views, in the views' frame (``shared.assets.views``).

    The mesh may be textured (UVs and a base-colour image) or vertex-coloured (linear RGBA, glTF's
    convention); post-processing cleans, decimates and exports whatever comes back. A scene of named
    parts, each with its own PBR material, is kept as parts when it fits the face budget.
    """

    stage = "reconstruct"

    def reconstruct(self, ctx: StageContext, views: list[View]) -> trimesh.Trimesh | trimesh.Scene:
        raise NotImplementedError
