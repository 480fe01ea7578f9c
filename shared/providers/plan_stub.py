"""A deterministic planner with no rules: the same prompt and seed always give the same plan.

Its plan is the smallest valid ScenePlan (a flat ground and a few crates), so every env generator
can run on it and the pipeline can be exercised without any planning logic.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shared.providers.base import Planner
from shared.schemas.scene_plan import ScenePlan


class StubPlanner(Planner):
    name = "stub"

    def plan(self, ctx, prompt: str, seed: int) -> dict[str, Any]:
        digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
        ground, crate, zenith, horizon = "#5a7850", "#b45a3c", "#6f9fd8", "#c8dcf0"
        return ScenePlan.model_validate({
            "prompt": prompt, "seed": seed, "setting": "stub", "time_of_day": "day", "weather": "clear",
            "lighting": "natural", "density": "normal", "palette": [ground, crate, zenith, horizon],
            "ground": {"width": 20.0, "depth": 20.0, "material": "grass", "color": ground, "relief": 0.0},
            "sky": {"zenith": zenith, "horizon": horizon},
            "lights": [{"type": "directional", "color": "#ffffff", "intensity": 3.0, "direction": [-0.4, -1.0, -0.3]}],
            "objects": [{"kind": "crate", "count": 1 + digest[0] % 3, "scale": [1.0, 1.0], "color": crate,
                         "region": {"x_min": -4.0, "x_max": 4.0, "z_min": -4.0, "z_max": 4.0}}],
            "camera": {"position": [0.0, 4.0, 9.0], "target": [0.0, 0.5, 0.0], "fov_deg": 55.0},
        }).model_dump(mode="json")
