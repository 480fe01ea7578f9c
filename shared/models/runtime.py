"""What every GPU provider checks before it works, written once.

- **Packages**: looked up with ``find_spec`` (nothing imported), so the API can ask too.
- **Device**: ``SDXL__DEVICE`` (auto, cpu, cuda, cuda:N) for every torch stage; asking for CUDA
  where torch sees none is an error that says so, never a silent run on the CPU.
- **Model source**: a local folder holding the model's files, or a Hugging Face model id whose
  files are already in the local cache, resolved to that cached folder. Nothing is ever
  downloaded: the loaders get a folder, never a hub id.
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from shared.config import setting_name
from shared.errors import ProviderUnavailable

if TYPE_CHECKING:
    from shared.config import Settings

GPU_REQUIREMENTS_HINT = "pip install -r requirements-gpu.txt"
MODEL_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
DIFFUSERS_PACKAGES = ("torch", "diffusers", "transformers")
DIFFUSERS_FILES = ("model_index.json",)
TRIPOSR_PACKAGES = ("torch", "tsr")
TRIPOSR_FILES = ("config.yaml", "model.ckpt")
TRIPOSR_HINT = "tsr is VAST-AI-Research/TripoSR's source, not on PyPI, and no image of ours installs it"
GSPLAT_PACKAGES = ("torch", "gsplat")


def require_packages(provider: str, packages: tuple[str, ...], hint: str = GPU_REQUIREMENTS_HINT) -> None:
    """Refuse ``provider`` when one of ``packages`` is not installed here, naming the missing ones."""
    missing = [package for package in packages if find_spec(package) is None]
    if missing:
        raise ProviderUnavailable(f"{provider} needs {', '.join(missing)} installed ({hint})")


def require_cuda(provider: str) -> None:
    """Refuse ``provider`` unless torch sees a CUDA GPU (call after ``require_packages`` named torch)."""
    import torch

    if not torch.cuda.is_available():
        raise ProviderUnavailable(f"{provider} needs a CUDA GPU, and this server has none")


def resolve_device(setting: str) -> str:
    """``auto`` is the first CUDA GPU when there is one, else the CPU; a named CUDA device must exist."""
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise ProviderUnavailable(f"{setting_name('sdxl.device')}={setting} but torch sees no CUDA GPU here "
                                  "(set it to auto or cpu)")
    return setting


def torch_device(settings: Settings) -> str:
    """What every torch stage starts with: the worker's math-thread count set, and the device to run on."""
    import torch

    torch.set_num_threads(settings.worker_torch_threads)
    return resolve_device(settings.sdxl.device)


def _cached_folder(model_id: str, files: tuple[str, ...]) -> Path | None:
    """The local Hugging Face cache's folder of ``model_id`` when it holds ``files`` (nothing is downloaded)."""
    if find_spec("huggingface_hub") is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    found = [try_to_load_from_cache(model_id, name) for name in files]
    if not all(isinstance(path, str) for path in found):
        return None
    return Path(str(found[0])).parent


def model_folder(target: str, source: str, files: tuple[str, ...] = DIFFUSERS_FILES) -> Path:
    """The local folder of the model setting ``target`` names (``sdxl.model_path``), or why there is none.

    ``source`` is a folder holding ``files``, or a hub id (``owner/name``) already in the local cache.
    """
    name = setting_name(target)
    if not source:
        raise ProviderUnavailable(f"{name} is not set")
    folder = Path(source).expanduser()
    if folder.is_dir():
        absent = [file for file in files if not (folder / file).is_file()]
        if absent:
            raise ProviderUnavailable(f"{name} {source!r} is not the model's folder (no {', '.join(absent)})")
        return folder
    if MODEL_ID.match(source):
        cached = _cached_folder(source, files)
        if cached is not None:
            return cached
    raise ProviderUnavailable(f"{name} {source!r} does not exist here (neither a folder nor a model in the local "
                              "cache; models are never downloaded)")


def optional_triposr_folder(settings: Settings) -> str | None:
    """TripoSR's folder where it can run here (``TRIPOSR__MODEL_PATH`` set, ``tsr`` installed), else None.

    A path that is set but holds no checkpoint is an error, not a quiet fallback.
    """
    if not settings.triposr.model_path:
        return None
    folder = model_folder("triposr.model_path", settings.triposr.model_path, TRIPOSR_FILES)
    return str(folder) if find_spec("tsr") is not None else None
