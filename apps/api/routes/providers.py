"""``GET /v1/providers``: the job kinds, their stages and the providers a client may choose."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends

from apps.api import deps
from apps.api.auth import current_owner
from shared.assets.formats import format_availability
from shared.config import Settings
from shared.errors import ProviderUnavailable
from shared.pipeline import chains
from shared.providers.registry import names, provider_class
from shared.schemas.api import JobCreate

router = APIRouter(prefix="/v1/providers", tags=["providers"], dependencies=[Depends(current_owner)])


def _describe(stage: str, name: str, settings: Settings) -> dict[str, Any]:
    cls = provider_class(stage, name)
    try:
        cls.check_available(settings)
        available, reason = True, None
    except ProviderUnavailable as unavailable:
        available, reason = False, str(unavailable)
    return {"name": name, "version": cls.version, "queue": cls.queue, "available": available,
            "unavailable_reason": reason, "options_schema": cls.Options.model_json_schema()}


@router.get("")
def list_providers(settings: Annotated[Settings, Depends(deps.settings)]) -> dict[str, Any]:
    """What the viewer and the CLI offer; nothing here is hard-coded on their side."""
    kinds = {}
    for kind, stages in chains.PROVIDER_STAGES.items():
        defaults = chains.default_providers(kind, settings)
        kinds[kind] = {
            stage: {"default": defaults[stage], "choices": [_describe(stage, n, settings) for n in names(stage)]}
            for stage in stages
        }
    fields = JobCreate.model_fields
    return {
        "kinds": kinds,
        "output_formats": list(get_args(fields["output_format"].annotation)),
        # Which of them this server can write now (FBX needs assimp, USDZ Pixar's USD), and why not.
        "output_format_availability": {name: {"available": reason is None, "unavailable_reason": reason}
                                       for name, reason in format_availability(settings).items()},
        "quality_tiers": list(get_args(fields["quality_tier"].annotation)),
        "max_prompt_chars": settings.max_prompt_chars,
    }
