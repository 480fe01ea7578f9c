"""A deterministic planner with no rules: the same prompt and seed always give the same plan."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.providers.base import Planner


class StubPlanner(Planner):
    name = "stub"

    def plan(self, ctx, prompt: str, seed: int) -> dict[str, Any]:
        digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
        return {
            "prompt": prompt,
            "seed": seed,
            "setting": "stub",
            "objects": [{"kind": "box", "count": 1 + digest[0] % 3}],
        }
