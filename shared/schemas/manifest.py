"""Build and validate the job manifest (``manifest.v0.json``, JSON Schema 2020-12)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.errors import ManifestInvalid

SCHEMA_PATH = Path(__file__).with_name("manifest.v0.json")
# Entries of ``artifacts`` that are not files: the sprint-2 manifest's own fields, kept beside ours for its
# clients (``scene_glb``: the scene's object key; ``refs``: the keys of the pictures it was made from).
SEED_ARTIFACT_FIELDS = ("scene_glb", "refs")


def artifact_files(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's artifacts that are files (name -> key, sha256, bytes, content_type)."""
    return {name: info for name, info in manifest["artifacts"].items() if name not in SEED_ARTIFACT_FIELDS}


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_manifest(manifest: dict[str, Any]) -> None:
    """Raise ``ManifestInvalid`` naming every violation (path: message)."""
    errors = sorted(_validator().iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:10])
        raise ManifestInvalid(f"manifest does not match schema v0: {details}")
