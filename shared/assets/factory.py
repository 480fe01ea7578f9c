"""text_to_3d through the object factories: the prompt's spec, stored between stages and in the manifest.

The images stage understands the prompt, builds the model, renders the views from it and stores the
spec as ``factory_spec.json``; the reconstruct stage rebuilds the same model from that file, so the
delivered mesh is the factory's own, not one carved back from pictures. The same understanding runs
at submission, so a prompt that names nothing makeable is a 422 before anything is queued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.objects.base import ObjectSpec, catalogue
from shared.objects.prompts import Understanding, understand

if TYPE_CHECKING:
    from shared.config import Settings

SPEC_ARTIFACT = "factory_spec.json"
TIER_DETAIL = {"standard": "standard", "high": "high"}


def understand_request(request: dict[str, Any], settings: Settings) -> Understanding:
    """The spec a job's request asks for (prompt, seed, quality tier); ``InvalidRequest`` if it names nothing."""
    tier = request.get("quality_tier") or "standard"
    return understand(request.get("prompt") or "", int(request.get("seed") or 0), TIER_DETAIL[tier],
                      semantic=settings.objects_semantic_matcher)


def manifest_details(found: Understanding, faces: int) -> dict[str, Any]:
    """The manifest's ``factory`` block: which factory made what, from which parameters and seed."""
    spec = found.spec
    return {
        "factory": {
            "name": "objects",
            "category": spec.category,
            "family": catalogue()[spec.category].family,
            "named_by": found.named_by,
            "seed": spec.seed,
            "params": spec.params,
            "materials": {role: m.to_json() for role, m in spec.materials.items()},
            "scale": round(spec.scale, 4),
            "stretch": spec.stretch,
            "widen": spec.widen,
            "flags": list(spec.flags),
            "detail": spec.detail,
            "faces": faces,
            "notes": found.notes,
        }
    }


def spec_from_artifact(data: dict[str, Any]) -> ObjectSpec:
    return ObjectSpec.from_json(data)


def material_extensions(details: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """glTF material extensions for a factory model (material name -> extensions): transmission for glass,
    which trimesh's exporter does not write. Empty for a job the factories did not make."""
    from shared.objects.base import material_name
    from shared.objects.materials import Material

    materials = ((details or {}).get("factory") or {}).get("materials") or {}
    extensions = {}
    for role, data in materials.items():
        made_of = Material.from_json(data)
        if made_of.transmission > 0:
            extensions[material_name(role, made_of)] = {
                "KHR_materials_transmission": {"transmissionFactor": made_of.transmission}}
    return extensions
