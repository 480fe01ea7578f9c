"""PBR materials by name, and the colour words a prompt may use.

A material is what a person calls it ("oak", "ceramic", "gold"): a base colour (sRGB hex, as people
write colours; converted to linear for glTF), roughness, metalness and transmission (glass). A
colour word replaces the base colour and keeps the rest, so "a red ceramic vase" is glazed red.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Material:
    name: str
    color: str  # sRGB hex
    roughness: float
    metallic: float = 0.0
    transmission: float = 0.0
    emission: float = 0.0  # glow in the base colour (bulbs, lanterns), 0..1

    def tinted(self, color: str) -> Material:
        return replace(self, color=color)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Material:
        return cls(**data)


MATERIALS: dict[str, Material] = {
    m.name: m
    for m in (
        Material("wood", "#8a5a36", 0.7),
        Material("dark_wood", "#5a3a24", 0.65),
        Material("light_wood", "#c49a6c", 0.7),
        Material("ceramic", "#e8e4dc", 0.25),
        Material("porcelain", "#f4f2ee", 0.15),
        Material("terracotta", "#b8643c", 0.8),
        Material("metal", "#9aa0a6", 0.35, 1.0),
        Material("dark_metal", "#3a3d42", 0.45, 1.0),
        Material("chrome", "#d8dce0", 0.08, 1.0),
        Material("gold", "#e3b341", 0.25, 1.0),
        Material("silver", "#c9ccd1", 0.2, 1.0),
        Material("bronze", "#a0703c", 0.35, 1.0),
        Material("copper", "#b87333", 0.3, 1.0),
        Material("glass", "#e6f0f2", 0.05, 0.0, 1.0),
        Material("stone", "#8c8a85", 0.9),
        Material("marble", "#e6e2da", 0.3),
        Material("concrete", "#a3a19c", 0.95),
        Material("brick", "#a4553c", 0.9),
        Material("plastic", "#d0d0d0", 0.4),
        Material("rubber", "#1c1c1e", 0.9),
        Material("fabric", "#7a8a9a", 0.95),
        Material("leather", "#6b3f26", 0.6),
        Material("paint", "#c03a2b", 0.35, 0.2),
        Material("paper", "#efe8d8", 0.9),
        Material("bark", "#5b3f28", 0.95),
        Material("leaf", "#4a7f35", 0.8),
        Material("needles", "#2f5a3a", 0.85),
        Material("petal", "#e0607a", 0.6),
        Material("soil", "#4a3526", 1.0),
        Material("light", "#fff1c8", 0.5, emission=1.0),
        Material("rope", "#b79a6a", 0.95),
    )
}

# what a prompt may call a material -> the preset
MATERIAL_WORDS: dict[str, str] = {
    "wood": "wood",
    "wooden": "wood",
    "timber": "wood",
    "oak": "wood",
    "walnut": "dark_wood",
    "mahogany": "dark_wood",
    "ebony": "dark_wood",
    "pine": "light_wood",
    "birch": "light_wood",
    "maple": "light_wood",
    "bamboo": "light_wood",
    "ceramic": "ceramic",
    "clay": "terracotta",
    "terracotta": "terracotta",
    "porcelain": "porcelain",
    "china": "porcelain",
    "earthenware": "terracotta",
    "stoneware": "ceramic",
    "metal": "metal",
    "metallic": "metal",
    "steel": "metal",
    "iron": "dark_metal",
    "cast": "dark_metal",
    "aluminium": "metal",
    "aluminum": "metal",
    "tin": "metal",
    "chrome": "chrome",
    "stainless": "chrome",
    "gold": "gold",
    "golden": "gold",
    "gilded": "gold",
    "silver": "silver",
    "bronze": "bronze",
    "brass": "bronze",
    "copper": "copper",
    "glass": "glass",
    "crystal": "glass",
    "transparent": "glass",
    "stone": "stone",
    "rock": "stone",
    "granite": "stone",
    "marble": "marble",
    "concrete": "concrete",
    "brick": "brick",
    "plastic": "plastic",
    "rubber": "rubber",
    "fabric": "fabric",
    "cloth": "fabric",
    "velvet": "fabric",
    "linen": "fabric",
    "cotton": "fabric",
    "wool": "fabric",
    "woolen": "fabric",
    "upholstered": "fabric",
    "leather": "leather",
    "painted": "paint",
    "paper": "paper",
    "cardboard": "paper",
}

COLOURS: dict[str, str] = {
    "red": "#b8302a",
    "crimson": "#9c1c28",
    "scarlet": "#c8281e",
    "maroon": "#6a1e22",
    "burgundy": "#6d1a2a",
    "orange": "#d8742a",
    "amber": "#d89a28",
    "yellow": "#e0c030",
    "gold": "#e3b341",
    "golden": "#e3b341",
    "green": "#3f8a3f",
    "olive": "#6b7030",
    "lime": "#8ac83a",
    "emerald": "#1f7a4f",
    "teal": "#2a7a7a",
    "turquoise": "#2ab0a8",
    "cyan": "#30b8d0",
    "blue": "#2f5ab0",
    "navy": "#1f2f5a",
    "azure": "#3f8ad8",
    "purple": "#6a3a9a",
    "violet": "#7a4ab0",
    "lavender": "#a890d0",
    "magenta": "#b83a9a",
    "pink": "#e08aa8",
    "brown": "#6b4226",
    "tan": "#c8a27a",
    "beige": "#d8c8a8",
    "cream": "#eee4c8",
    "ivory": "#f0ead8",
    "white": "#f0f0ec",
    "black": "#1e1e20",
    "grey": "#80827f",
    "gray": "#80827f",
    "silver": "#c9ccd1",
    "charcoal": "#363638",
    "copper": "#b87333",
    "bronze": "#a0703c",
    "rust": "#8a3e1e",
    "mint": "#a0d8b8",
}


def material(name: str) -> Material:
    return MATERIALS[name]
