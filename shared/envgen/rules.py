"""Prompt -> ScenePlan by phrase rules: a setting recipe, then time, weather, lighting and density.

Deterministic on purpose: the only randomness comes from a generator seeded by the prompt and
seed, so a plan can be reproduced from a job record, and tests can compare plans exactly.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from typing import Any

from shared.envgen.colors import mix, shade
from shared.envgen.recipes import BY_NAME, DEFAULT_SETTING, RECIPES, Group, Recipe
from shared.schemas.scene_plan import MAX_OBJECTS_TOTAL, MAX_PALETTE, ScenePlan

TIME_PHRASES: dict[str, dict[str, int]] = {
    "dawn": {"dawn": 3, "sunrise": 3, "daybreak": 3, "morning": 2, "first light": 3},
    "day": {"day": 1, "daytime": 3, "noon": 3, "midday": 3, "afternoon": 2, "sunny": 1},
    "dusk": {"dusk": 3, "sunset": 3, "evening": 3, "twilight": 3, "golden hour": 3},
    "night": {"night": 3, "midnight": 3, "nighttime": 3, "moonlit": 3, "moonlight": 3, "starry": 2, "stars": 1},
}
WEATHER_PHRASES: dict[str, dict[str, int]] = {
    "misty": {"misty": 3, "mist": 3, "fog": 3, "foggy": 3, "hazy": 2, "haze": 2},
    "rainy": {"rain": 3, "rainy": 3, "raining": 3, "wet": 2, "storm": 2, "stormy": 2, "drizzle": 3},
    "snowy": {"snowy": 3, "snowing": 3, "snowfall": 3, "blizzard": 3, "snow": 1},
    "dusty": {"dusty": 3, "dust": 2, "sandstorm": 3},
    "cloudy": {"cloudy": 3, "overcast": 3, "clouds": 2, "grey": 1, "gray": 1},
    "clear": {"clear": 2, "sunny": 2, "cloudless": 3},
}
LIGHTING_PHRASES: dict[str, dict[str, int]] = {
    "neon": {"neon": 4, "cyberpunk": 3, "synthwave": 3, "vaporwave": 3, "glowing signs": 3},
    "warm": {"warm": 3, "cozy": 3, "cosy": 3, "candlelit": 3, "candle": 2, "firelight": 3, "lantern": 2},
    "cool": {"cold": 2, "cool": 3, "icy": 2, "frosty": 2, "clinical": 2},
    "moody": {"moody": 3, "gloomy": 3, "eerie": 3, "spooky": 3, "haunted": 3, "dark": 2, "ominous": 3, "creepy": 3},
    "natural": {"natural": 2, "realistic": 2, "bright": 1},
}
DENSITY_PHRASES: dict[str, dict[str, int]] = {
    "dense": {"dense": 3, "thick": 2, "lush": 2, "crowded": 3, "busy": 2, "packed": 3, "overgrown": 3,
              "cluttered": 3, "bustling": 3},
    "sparse": {"sparse": 3, "empty": 3, "barren": 3, "deserted": 3, "quiet": 1, "minimal": 3, "few": 2,
               "lonely": 2, "desolate": 3},
}
DENSITY_FACTOR = {"sparse": 0.45, "normal": 1.0, "dense": 1.8}

# sun (or moon): elevation, azimuth from +z towards +x (degrees), colour, intensity (lux, viewer scale)
SUN = {
    "dawn": (12.0, 70.0, "#ffb07a", 1.6),
    "day": (55.0, 30.0, "#fff4e0", 3.0),
    "dusk": (9.0, -70.0, "#ff8a4c", 1.4),
    "night": (35.0, -30.0, "#9fb4ff", 0.35),
}
SKY = {
    "dawn": ("#6d88b8", "#f3b58c"),
    "day": ("#4f8fd8", "#bcd8f0"),
    "dusk": ("#3a3f78", "#f08a5a"),
    "night": ("#070b1a", "#1b2440"),
}
WEATHER_LOOK = {  # sky tint, tint amount, fog density, sun factor
    "clear": ("#ffffff", 0.0, 0.002, 1.0),
    "cloudy": ("#9aa0a8", 0.5, 0.006, 0.6),
    "misty": ("#c4c8cc", 0.6, 0.05, 0.55),
    "rainy": ("#5c626b", 0.55, 0.02, 0.45),
    "snowy": ("#dfe4ea", 0.5, 0.025, 0.7),
    "dusty": ("#c9a877", 0.55, 0.035, 0.6),
}
NEON_COLORS = ("#ff2bd6", "#19e6ff", "#8a5cff", "#39ff88")
SNOW_GROUND = "#e9eef2"


def _normalise(prompt: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", prompt.lower())) + " "


def _score(text: str, phrases: dict[str, int]) -> int:
    return sum(weight for phrase, weight in phrases.items() if f" {phrase} " in text)


def _pick(text: str, table: dict[str, dict[str, int]], default: str) -> str:
    """The best-scoring key; ties go to the earlier key, nothing matched gives ``default``."""
    best, best_score = default, 0
    for key, phrases in table.items():
        score = _score(text, phrases)
        if score > best_score:
            best, best_score = key, score
    return best


def match_setting(prompt: str) -> str:
    """The recognised setting a prompt describes; unknown prompts get the open-grassland default."""
    return _pick(_normalise(prompt), {r.name: r.phrases for r in RECIPES}, DEFAULT_SETTING)


def _rng(prompt: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{_normalise(prompt)}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _rect(fracs: tuple[float, float, float, float], half_w: float, half_d: float) -> dict[str, float]:
    x0, x1, z0, z1 = fracs
    return {"x_min": round(x0 * half_w, 3), "x_max": round(x1 * half_w, 3),
            "z_min": round(z0 * half_d, 3), "z_max": round(z1 * half_d, 3)}


def _sun(time: str, weather: str, lighting: str, enclosed: bool) -> dict[str, Any]:
    elevation, azimuth, color, intensity = SUN[time]
    intensity *= WEATHER_LOOK[weather][3] * (0.6 if lighting == "moody" else 1.0) * (0.4 if enclosed else 1.0)
    if lighting == "warm":
        color = mix(color, "#ffb060", 0.35)
    elif lighting == "cool":
        color = mix(color, "#a8c8ff", 0.35)
    elif lighting == "neon":
        color = mix(color, "#b08cff", 0.4)
    el, az = math.radians(elevation), math.radians(azimuth)
    towards_sun = (math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az))
    return {"type": "directional", "color": color, "intensity": round(intensity, 3),
            "direction": [round(-c, 4) for c in towards_sun]}


def _sky(recipe: Recipe, time: str, weather: str, lighting: str) -> dict[str, Any]:
    zenith, horizon = recipe.sky or SKY[time]
    tint, amount, fog, _ = WEATHER_LOOK[weather]
    if recipe.sky is None:
        zenith, horizon = mix(zenith, tint, amount), mix(horizon, tint, amount)
    if lighting == "neon":
        zenith, horizon = mix(zenith, "#1a0b2e", 0.5), mix(horizon, "#8a2a8a", 0.45)
    elif lighting == "moody":
        zenith, horizon, fog = shade(zenith, 0.7), shade(horizon, 0.7), fog + 0.01
    return {"zenith": zenith, "horizon": horizon, "fog_density": round(fog, 4)}


def _point_lights(recipe: Recipe, time: str, lighting: str, half_w: float, half_d: float) -> list[dict[str, Any]]:
    lights = [(p.x * half_w, p.y, p.z * half_d, p.color, p.intensity) for p in recipe.lights]
    if lighting == "neon":
        lights += [((-0.3 if i % 2 else 0.3) * half_w, 3.0, (0.5 - 0.45 * i) * half_d, NEON_COLORS[i], 25.0)
                   for i in range(3)]
    elif lighting == "warm" and not recipe.enclosed:
        lights.append((0.0, 3.5, 0.2 * half_d, "#ffb060", 20.0))
    if time in ("dusk", "night"):
        for group in recipe.groups:
            if group.kind in ("lamp_post", "floor_lamp"):
                x0, x1, z0, z1 = group.region
                lights.append(((x0 + x1) / 2 * half_w, 4.0 if group.kind == "lamp_post" else 1.6,
                               (z0 + z1) / 2 * half_d, "#ffd27a", 15.0))
    return [{"type": "point", "color": color, "intensity": intensity, "position": [round(x, 3), y, round(z, 3)]}
            for x, y, z, color, intensity in lights]


def _objects(recipe: Recipe, density: str, lighting: str, rng: random.Random,
             half_w: float, half_d: float) -> list[dict[str, Any]]:
    groups = list(recipe.groups)
    if lighting == "neon" and recipe.urban and not any(g.finish == "emissive" for g in groups):
        groups.append(Group("sign", 4, (-0.45, 0.45, -0.9, 0.5), (0.9, 1.1), NEON_COLORS[0], "emissive"))
    counts = [max(1, round(g.count * DENSITY_FACTOR[density] * rng.uniform(0.85, 1.15))) for g in groups]
    if sum(counts) > MAX_OBJECTS_TOTAL:
        counts = [max(1, c * MAX_OBJECTS_TOTAL // sum(counts)) for c in counts]
    objects = []
    for index, (group, count) in enumerate(zip(groups, counts, strict=True)):
        color = group.color
        if lighting == "neon" and group.finish == "emissive":
            color = NEON_COLORS[index % len(NEON_COLORS)]
        objects.append({"kind": group.kind, "count": count, "region": _rect(group.region, half_w, half_d),
                        "scale": list(group.scale), "color": color, "finish": group.finish})
    return objects


def plan_from_prompt(prompt: str, seed: int) -> ScenePlan:
    """The plan the rules derive from ``prompt``; the same prompt and seed give the same plan."""
    text = _normalise(prompt)
    recipe = BY_NAME[match_setting(prompt)]
    rng = _rng(prompt, seed)
    time = _pick(text, TIME_PHRASES, recipe.time_of_day)
    weather = _pick(text, WEATHER_PHRASES, recipe.weather)
    lighting = _pick(text, LIGHTING_PHRASES, recipe.lighting)
    density = _pick(text, DENSITY_PHRASES, "normal")
    width, depth = recipe.size
    half_w, half_d = width / 2, depth / 2

    material, ground_color = recipe.material, recipe.ground_color
    if weather == "snowy" and not recipe.enclosed:
        material, ground_color = "snow", SNOW_GROUND
    elif weather == "rainy" and not recipe.enclosed:
        ground_color = shade(ground_color, 0.75)
    elif weather == "dusty":
        ground_color = mix(ground_color, "#c9a877", 0.3)
    ground: dict[str, Any] = {"width": width, "depth": depth, "material": material, "color": ground_color,
                              "relief": recipe.relief, "relief_scale": recipe.relief_scale}
    if recipe.walls is not None:
        ground["walls"] = {"height": recipe.walls[0], "color": recipe.walls[1]}
    if recipe.water is not None:
        ground["water"] = {"region": _rect(recipe.water, half_w, half_d), "color": recipe.water_color}

    sky = _sky(recipe, time, weather, lighting)
    lights = [_sun(time, weather, lighting, recipe.enclosed)]
    lights += _point_lights(recipe, time, lighting, half_w, half_d)[: 8 - len(lights)]
    objects = _objects(recipe, density, lighting, rng, half_w, half_d)

    cx, cy, cz = recipe.camera
    tx, ty, tz = recipe.target
    jitter = rng.uniform(-0.08, 0.08)
    camera = {"position": [round((cx + jitter) * half_w, 3), cy, round(cz * half_d, 3)],
              "target": [round((tx - jitter) * half_w, 3), ty, round(tz * half_d, 3)], "fov_deg": recipe.fov_deg}
    palette = list(dict.fromkeys([ground_color, sky["zenith"], sky["horizon"], *(o["color"] for o in objects)]))
    return ScenePlan.model_validate({
        "prompt": prompt, "seed": seed, "setting": recipe.name, "time_of_day": time, "weather": weather,
        "lighting": lighting, "density": density, "palette": palette[:MAX_PALETTE], "ground": ground, "sky": sky,
        "lights": lights, "objects": objects, "camera": camera,
    })
