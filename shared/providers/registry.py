"""The provider registry: ``(stage, name) -> "module:Class"``, imported only on lookup.

Adding a provider is one module plus one line in ``PROVIDERS``.
"""

from __future__ import annotations

import importlib
from functools import cache

from shared.errors import UnknownProvider
from shared.providers.base import Provider

PROVIDERS: dict[tuple[str, str], str] = {
    ("plan", "stub"): "shared.providers.plan_stub:StubPlanner",
    ("env", "stub"): "shared.providers.env_stub:StubEnvGenerator",
    ("plan", "rules"): "shared.providers.plan_rules:RulesPlanner",
    ("env", "procedural"): "shared.providers.env_procedural:ProceduralEnvGenerator",
    ("plan", "llm"): "shared.providers.plan_llm:LLMPlanner",
    ("env", "sagemaker"): "shared.providers.env_sagemaker:SageMakerEnvGenerator",
    ("train", "points"): "shared.providers.splat_points:PointsSplatTrainer",
    ("train", "gsplat"): "shared.providers.splat_gsplat:GsplatSplatTrainer",
    ("env", "sdxl_triposr"): "shared.providers.env_sdxl_triposr:SDXLTripoSREnvGenerator",
    ("images", "stub"): "shared.providers.images_stub:StubImageGenerator",
    ("images", "sdxl"): "shared.providers.images_diffusion:SDXLImageGenerator",
    ("images", "flux"): "shared.providers.images_diffusion:FluxImageGenerator",
    ("reconstruct", "stub"): "shared.providers.reconstruct_stub:StubReconstructor",
    ("reconstruct", "relief"): "shared.providers.reconstruct_relief:ReliefReconstructor",
    ("reconstruct", "shap_e"): "shared.providers.reconstruct_shap_e:ShapEReconstructor",
    ("reconstruct", "triposr"): "shared.providers.reconstruct_triposr:TripoSRReconstructor",
    ("reconstruct", "sagemaker"): "shared.providers.reconstruct_sagemaker:SageMakerReconstructor",
}


def names(stage: str) -> list[str]:
    """Provider names registered for a stage, sorted."""
    return sorted(name for (s, name) in PROVIDERS if s == stage)


def check_inner_provider(stage: str, name: str, options: dict, cloud_name: str) -> None:
    """What a cloud provider runs inside its container: a registered local provider with valid options."""
    if name == cloud_name:
        raise ValueError(f"the processing container cannot run the {cloud_name} provider itself")
    if name not in names(stage):
        raise ValueError(f"unknown {stage} provider {name!r} (known: {', '.join(names(stage))})")
    provider_class(stage, name).Options.model_validate(options)


@cache
def provider_class(stage: str, name: str) -> type[Provider]:
    """Import and return the provider class; an unknown pair raises ``UnknownProvider``."""
    try:
        target = PROVIDERS[(stage, name)]
    except KeyError:
        known = ", ".join(names(stage)) or "none"
        raise UnknownProvider(f"unknown provider {name!r} for stage {stage!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if cls.stage != stage or cls.name != name:
        raise TypeError(f"{target} declares ({cls.stage!r}, {cls.name!r}), registered as ({stage!r}, {name!r})")
    return cls
