"""The provider registry: ``(stage, name) -> "module:Class"``, imported only on lookup.

Adding a provider is one module plus one line in ``PROVIDERS``. The ``EXTRA_PROVIDERS`` setting adds
``module:Class`` providers that ship outside the product (the fault-injection providers of the tests and
``make reliability``), imported on the first lookup, never at import time.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any, TypeVar

from shared.errors import UnknownProvider
from shared.providers.base import Provider

P = TypeVar("P", bound=Provider)

PROVIDERS: dict[tuple[str, str], str] = {
    ("plan", "stub"): "shared.providers.plan_stub:StubPlanner",
    ("env", "stub"): "shared.providers.env_stub:StubEnvGenerator",
    ("plan", "rules"): "shared.providers.plan_rules:RulesPlanner",
    ("env", "procedural"): "shared.providers.env_procedural:ProceduralEnvGenerator",
    ("plan", "llm"): "shared.providers.plan_llm:LLMPlanner",
    ("env", "sagemaker"): "shared.providers.env_sagemaker:SageMakerEnvGenerator",
    ("train", "points"): "shared.providers.splat_points:PointsSplatTrainer",
    ("train", "gsplat"): "shared.providers.splat_gsplat:GsplatSplatTrainer",
    ("train", "cpu"): "shared.providers.splat_cpu:CpuSplatTrainer",
    ("env", "sdxl_triposr"): "shared.providers.env_sdxl_triposr:SDXLTripoSREnvGenerator",
    ("images", "stub"): "shared.providers.images_stub:StubImageGenerator",
    ("images", "sdxl"): "shared.providers.images_diffusion:SDXLImageGenerator",
    ("images", "flux"): "shared.providers.images_diffusion:FluxImageGenerator",
    ("images", "factory"): "shared.providers.images_factory:FactoryImageGenerator",
    ("reconstruct", "stub"): "shared.providers.reconstruct_stub:StubReconstructor",
    ("reconstruct", "relief"): "shared.providers.reconstruct_relief:ReliefReconstructor",
    ("reconstruct", "factory"): "shared.providers.reconstruct_factory:FactoryReconstructor",
    ("reconstruct", "shap_e"): "shared.providers.reconstruct_shap_e:ShapEReconstructor",
    ("reconstruct", "triposr"): "shared.providers.reconstruct_triposr:TripoSRReconstructor",
    ("reconstruct", "sagemaker"): "shared.providers.reconstruct_sagemaker:SageMakerReconstructor",
}


@cache
def _extras(targets: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """The extra providers keyed by the ``(stage, name)`` each class declares; a clash with a built-in one is
    an error (an extra must not replace what the product ships under the same name)."""
    extras: dict[tuple[str, str], str] = {}
    for target in targets:
        module_name, _, class_name = target.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        key = (cls.stage, cls.name)
        if key in PROVIDERS or key in extras:
            raise ValueError(f"EXTRA_PROVIDERS: {target} would replace the {key[0]} provider {key[1]!r}")
        extras[key] = target
    return extras


def registered() -> dict[tuple[str, str], str]:
    """Every provider this process may run: the built-in ones and the settings' extras."""
    from shared.config import get_settings

    targets = tuple(get_settings().extra_providers)
    return {**PROVIDERS, **_extras(targets)} if targets else PROVIDERS


def names(stage: str) -> list[str]:
    """Provider names registered for a stage, sorted."""
    return sorted(name for (s, name) in registered() if s == stage)


@cache
def provider_class(stage: str, name: str) -> type[Provider]:
    """Import and return the provider class; an unknown pair raises ``UnknownProvider``."""
    try:
        target = registered()[(stage, name)]
    except KeyError:
        known = ", ".join(names(stage)) or "none"
        raise UnknownProvider(f"unknown provider {name!r} for stage {stage!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if cls.stage != stage or cls.name != name:
        raise TypeError(f"{target} declares ({cls.stage!r}, {cls.name!r}), registered as ({stage!r}, {name!r})")
    return cls


def create(contract: type[P], name: str, options: dict[str, Any] | None = None) -> P:
    """The provider registered as ``(contract.stage, name)``, built with ``options``: a stage asks for the
    contract it calls (``SplatTrainer``, ``Reconstructor``…), and a class registered under its stage that
    does not fulfil it is refused here rather than failing on a missing method later."""
    cls = provider_class(contract.stage, name)
    if not issubclass(cls, contract):
        raise TypeError(f"{cls.__module__}.{cls.__name__} is registered for {contract.stage!r} "
                        f"but is not a {contract.__name__}")
    return cls(options)
