"""The GPU providers' one runtime rule (shared/models/runtime.py): model sources, packages and devices.

A model id is found in a real Hugging Face cache folder laid out here (refs/main -> snapshots/<commit>),
as the hub client writes it; nothing is downloaded, and an id that is not cached is refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.config import Settings
from shared.errors import ProviderUnavailable
from shared.models import runtime
from shared.models.diffusion import hot_pipeline
from shared.providers.env_sdxl_triposr import SDXLTripoSREnvGenerator
from shared.providers.reconstruct_triposr import TripoSRReconstructor
from tests.test_sdxl_triposr import cuda_available, pipeline_folder

__all__ = ["pipeline_folder"]  # the fixture, imported so pytest finds it here
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    pytest.importorskip("huggingface_hub")
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # were anything to try the network, it would fail, not fetch
    return cache


def cache_model(cache: Path, model_id: str, source: Path) -> Path:
    """``source``'s files as the hub client caches ``model_id``; returns the snapshot folder."""
    repo = cache / f"models--{model_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    snapshot = repo / "snapshots" / COMMIT
    shutil.copytree(source, snapshot)
    return snapshot


def test_a_model_is_a_folder_with_its_files_or_a_cached_id_and_nothing_else(tmp_path, hub_cache):
    folder = tmp_path / "triposr"
    folder.mkdir()
    (folder / "config.yaml").write_text("model: {}\n")
    with pytest.raises(ProviderUnavailable, match=r"TRIPOSR__MODEL_PATH '.*triposr' is not the model's folder "
                                                  r"\(no model\.ckpt\)"):
        runtime.model_folder("triposr.model_path", str(folder), runtime.TRIPOSR_FILES)
    (folder / "model.ckpt").write_bytes(b"weights")
    assert runtime.model_folder("triposr.model_path", str(folder), runtime.TRIPOSR_FILES) == folder

    snapshot = cache_model(hub_cache, "stabilityai/TripoSR", folder)
    assert runtime.model_folder("triposr.model_path", "stabilityai/TripoSR", runtime.TRIPOSR_FILES) == snapshot
    with pytest.raises(ProviderUnavailable, match=r"'stabilityai/Other' does not exist here.*never downloaded"):
        runtime.model_folder("triposr.model_path", "stabilityai/Other", runtime.TRIPOSR_FILES)
    with pytest.raises(ProviderUnavailable, match=r"^SDXL__MODEL_PATH is not set$"):
        runtime.model_folder("sdxl.model_path", "")


def test_a_cached_model_id_loads_from_the_cache_folder(pipeline_folder, hub_cache, tmp_path):
    """The whole path of a hub id: the worker's check, then the loader, on a real diffusers pipeline."""
    snapshot = cache_model(hub_cache, "tiny/stable-diffusion", pipeline_folder)
    settings = Settings(data_dir=tmp_path, sdxl={"model_path": "tiny/stable-diffusion",
                                                 "pipeline_class": "StableDiffusionPipeline", "device": "cpu"})
    SDXLTripoSREnvGenerator.check_runtime(settings)
    pipeline, device = hot_pipeline(settings)
    assert device == "cpu"
    assert Path(pipeline.config._name_or_path) == snapshot


def test_triposr_is_optional_for_hero_props_but_a_wrong_path_is_not(tmp_path, monkeypatch):
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    for name in runtime.TRIPOSR_FILES:
        (checkpoint / name).write_bytes(b"x")
    assert runtime.optional_triposr_folder(Settings(data_dir=tmp_path)) is None
    monkeypatch.setattr(runtime, "find_spec", lambda name: None if name == "tsr" else object())
    assert runtime.optional_triposr_folder(Settings(data_dir=tmp_path, triposr={"model_path": str(checkpoint)})) is None
    with pytest.raises(ProviderUnavailable, match=r"TRIPOSR__MODEL_PATH .* does not exist here"):
        runtime.optional_triposr_folder(Settings(data_dir=tmp_path, triposr={"model_path": str(tmp_path / "none")}))
    monkeypatch.setattr(runtime, "find_spec", lambda name: object())
    assert runtime.optional_triposr_folder(Settings(data_dir=tmp_path, triposr={"model_path": str(checkpoint)})) == str(
        checkpoint)
    assert TripoSRReconstructor.model_source(Settings(data_dir=tmp_path, triposr_model_path=str(checkpoint))) == str(
        checkpoint)


def test_packages_are_named_without_importing_them(monkeypatch):
    monkeypatch.setattr(runtime, "find_spec", lambda name: None if name in ("gsplat", "tsr") else object())
    runtime.require_packages("the sdxl images provider", runtime.DIFFUSERS_PACKAGES)
    with pytest.raises(ProviderUnavailable, match=r"^the gsplat provider needs gsplat installed \(pip install -r "
                                                  r"requirements-gpu\.txt\)$"):
        runtime.require_packages("the gsplat provider", runtime.GSPLAT_PACKAGES)
    with pytest.raises(ProviderUnavailable, match=r"needs tsr installed .*not on PyPI"):
        runtime.require_packages("the triposr reconstructor", runtime.TRIPOSR_PACKAGES, runtime.TRIPOSR_HINT)


@pytest.mark.skipif(cuda_available(), reason="this machine has a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_is_an_error_and_auto_is_the_cpu():
    pytest.importorskip("torch")
    assert runtime.resolve_device("auto") == "cpu"
    assert runtime.resolve_device("cpu") == "cpu"
    with pytest.raises(ProviderUnavailable, match=r"SDXL__DEVICE=cuda:1 but torch sees no CUDA GPU"):
        runtime.resolve_device("cuda:1")
    with pytest.raises(ProviderUnavailable, match="needs a CUDA GPU, and this server has none"):
        runtime.require_cuda("the gsplat provider")
