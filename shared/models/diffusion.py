"""diffusers pipelines (text -> image, and Shap-E), loaded once per worker process and kept hot.

Loading an SDXL pipeline takes tens of seconds and gigabytes of (GPU) memory, and a worker serves
job after job: the pipeline is cached per process, keyed by (class, folder, device). One entry only:
a second large model would not fit beside the first on one GPU, so switching models frees the old
one. Shap-E is cached on its own, so a worker that also runs an image model keeps both hot instead
of swapping one for the other on every job. Nothing is ever downloaded: the folder comes from
``runtime.model_folder`` and is opened with ``local_files_only``. torch and diffusers are imported
inside the functions, never at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.errors import ProviderError
from shared.models.runtime import model_folder, torch_device

if TYPE_CHECKING:
    from PIL import Image

    from shared.config import Settings

SHAP_E_PIPELINE_CLASS = "ShapEImg2ImgPipeline"
NEGATIVE_PROMPT = "scene, landscape, room, several objects, cropped, text, watermark, frame, busy background"


@lru_cache(maxsize=1)
def load_pipeline(class_name: str, model_path: str, device: str) -> Any:
    """The diffusers pipeline ``class_name`` from ``model_path``: half precision on a GPU, full on the CPU."""
    import diffusers
    import torch

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    try:
        pipeline = getattr(diffusers, class_name).from_pretrained(model_path, dtype=dtype, local_files_only=True)
    except (OSError, ValueError) as error:
        raise ProviderError(f"cannot load {class_name} from {model_path!r}: {error}") from None
    pipeline = pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


@lru_cache(maxsize=1)
def load_shap_e(model_path: str, device: str) -> Any:
    """The Shap-E pipeline (diffusers' ShapEImg2ImgPipeline), loaded once per worker process."""
    return load_pipeline.__wrapped__(SHAP_E_PIPELINE_CLASS, model_path, device)


def hot_pipeline(settings: Settings) -> tuple[Any, str]:
    """This process's SDXL pipeline for ``settings`` (loaded on first use) and the device it runs on."""
    device = torch_device(settings)
    folder = model_folder("sdxl.model_path", settings.sdxl.model_path)
    return load_pipeline(settings.sdxl.pipeline_class, str(folder), device), device


def generate_image(pipeline: Any, prompt: str, seed: int, steps: int, size: int,
                   on_step: Callable[[int], None] | None = None) -> Image.Image:
    """One ``size`` x ``size`` picture; the same seed gives the same picture on the same device.

    The noise comes from a CPU generator, so it does not depend on the device's random number
    generator. ``on_step`` is called after each denoising step (progress, and the cancellation check).
    """
    import torch

    def step_end(_pipeline: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if on_step is not None:
            on_step(step + 1)
        return tensors

    result = pipeline(prompt=prompt, negative_prompt=NEGATIVE_PROMPT, num_inference_steps=steps, height=size,
                      width=size, generator=torch.Generator(device="cpu").manual_seed(seed), output_type="pil",
                      callback_on_step_end=step_end)
    return result.images[0]
