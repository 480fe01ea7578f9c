"""Vehicles: bodies as convex hulls of a few hand-placed points, wheels as cylinders; length along Z, front +Z."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh

from shared.objects.base import Builder, factory

VEHICLE_WORDS = {
    "body": "body",
    "paint": "body",
    "wheels": "wheels",
    "tyres": "wheels",
    "tires": "wheels",
    "windows": "glass",
    "windscreen": "glass",
}


def hull(b: Builder, name: str, role: str, points: Sequence[Sequence[float]]) -> trimesh.Trimesh:
    """The convex hull of ``points``: closed and outward by construction."""
    return b.add(name, role, trimesh.convex.convex_hull(np.asarray(points, dtype=float)))


def section(half_width: float, profile: Sequence[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """Points of a side profile ``(z, y)`` on both flanks."""
    return [(x, y, z) for z, y in profile for x in (-half_width, half_width)]


def wheels(b: Builder, half_track: float, axles: Sequence[float], radius: float, width: float) -> None:
    for z in axles:
        for side in (-1, 1):
            x = side * half_track
            b.rod(
                "wheel",
                "wheels",
                (x - width / 2, radius, z),
                (x + width / 2, radius, z),
                radius,
                sections=max(12, b.sections),
            )
            b.rod(
                "hub",
                "trim",
                (x + side * width / 2 - 0.01 * side, radius, z),
                (x + side * (width / 2 + 0.01), radius, z),
                radius * 0.55,
                sections=max(12, b.sections),
            )


@factory(
    "car",
    "vehicles",
    {"length": (3.8, 4.8), "width": (1.7, 1.9), "height": (1.3, 1.55), "wheel": (0.3, 0.36), "cabin": (0.4, 0.55)},
    {"body": "paint", "glass": "glass:#2e3a46", "wheels": "rubber", "trim": "chrome", "lights": "light"},
    synonyms=(
        "car",
        "sedan",
        "sports car",
        "automobile",
        "coupe",
        "hatchback",
        "suv",
        "jeep",
        "taxi",
        "cab",
        "convertible",
        "racecar",
        "race car",
        "vehicle",
        "limousine",
        "cars",
    ),
    role_words=VEHICLE_WORDS,
    size=(2.5, 6.5),
    styles={
        "sports": {"height": 1.2, "cabin": 0.4, "wheel": 0.33, "length": 4.4},
        "racecar": {"height": 1.2, "cabin": 0.4, "wheel": 0.33, "length": 4.4},
        "race": {"height": 1.2, "cabin": 0.4, "wheel": 0.33, "length": 4.4},
        "suv": {"height": 1.75, "wheel": 0.38, "cabin": 0.62},
        "jeep": {"height": 1.75, "wheel": 0.38, "cabin": 0.62},
        "limousine": {"length": 6.0},
        "hatchback": {"length": 3.9, "cabin": 0.6},
    },
)
def car(b: Builder) -> None:
    length, width, height, r = b.p["length"], b.p["width"], b.p["height"], b.p["wheel"]
    half, bottom, belt = width / 2, r * 0.55, r + 0.42
    hull(
        b,
        "body",
        "body",
        section(
            half,
            [
                (-length / 2, bottom + 0.1),
                (-length / 2 + 0.05, belt),
                (length / 2 - 0.1, belt - 0.05),
                (length / 2, bottom + 0.15),
                (length / 2 - 0.15, bottom),
                (-length / 2 + 0.15, bottom),
            ],
        ),
    )
    cabin = length * b.p["cabin"]
    back = -length / 2 + length * 0.18
    hull(
        b,
        "cabin",
        "glass",
        section(
            half - 0.08,
            [
                (back, belt - 0.02),
                (back + cabin * 0.15, height),
                (back + cabin * 0.7, height),
                (back + cabin, belt - 0.02),
            ],
        ),
    )
    wheels(b, half - 0.05, (-length / 2 + length * 0.18, length / 2 - length * 0.18), r, 0.22)
    for side in (-1, 1):
        b.box(
            "headlight",
            "lights",
            (side * half * 0.7 - 0.12, belt - 0.18, length / 2 - 0.1),
            (side * half * 0.7 + 0.12, belt - 0.1, length / 2 - 0.02),
        )


@factory(
    "truck",
    "vehicles",
    {
        "length": (5.5, 8.0),
        "width": (2.1, 2.5),
        "height": (2.6, 3.4),
        "wheel": (0.45, 0.55),
        "cab": (1.6, 2.1),
        "open": (0.0, 0.3),
    },
    {"body": "paint:#d8d8d8", "cab": "paint", "glass": "glass:#2e3a46", "wheels": "rubber", "trim": "chrome"},
    synonyms=(
        "truck",
        "lorry",
        "pickup",
        "pickup truck",
        "van",
        "bus",
        "delivery truck",
        "semi",
        "trailer",
        "fire truck",
        "dump truck",
    ),
    role_words={**VEHICLE_WORDS, "cab": "cab", "cargo": "body", "box": "body"},
    size=(4.0, 18.0),
    styles={"pickup": {"open": 1.0, "length": 5.3, "height": 1.85, "cab": 2.3, "wheel": 0.4, "width": 1.95}},
)
def truck(b: Builder) -> None:
    length, width, height, r, cab = b.p["length"], b.p["width"], b.p["height"], b.p["wheel"], b.p["cab"]
    half, floor = width / 2, r * 1.4
    b.box("chassis", "trim", (-half + 0.2, r * 0.7, -length / 2), (half - 0.2, floor, length / 2))
    back_of_cab = length / 2 - cab - 0.1
    if b.p["open"] > 0.5:  # a pickup's bed: floor and three low sides
        b.box("bed", "cab", (-half, floor, -length / 2), (half, floor + 0.08, back_of_cab))
        for x0, x1 in ((-half, -half + 0.06), (half - 0.06, half)):
            b.box("bed_side", "cab", (x0, floor + 0.08, -length / 2), (x1, floor + 0.5, back_of_cab))
        b.box(
            "tailgate", "cab", (-half + 0.06, floor + 0.08, -length / 2), (half - 0.06, floor + 0.5, -length / 2 + 0.06)
        )
    else:
        b.box("cargo", "body", (-half, floor, -length / 2), (half, height, back_of_cab))
    front = length / 2
    hull(
        b,
        "cab",
        "cab",
        section(
            half,
            [
                (front - cab, floor),
                (front - cab, height * 0.85),
                (front - 0.4, height * 0.85),
                (front, height * 0.55),
                (front, floor),
            ],
        ),
    )
    b.box("windscreen", "glass", (-half + 0.15, height * 0.58, front - 0.33), (half - 0.15, height * 0.8, front - 0.12))
    rear = (-length / 2 + r * 2.2,) if b.p["open"] > 0.5 else (-length / 2 + r * 1.5, -length / 2 + r * 3.7)
    wheels(b, half - 0.15, (*rear, front - cab * 0.5), r, 0.3)


@factory(
    "boat",
    "vehicles",
    {"length": (3.5, 7.0), "beam": (1.3, 2.2), "depth": (0.6, 1.0), "cabin": (0, 1), "mast": (0, 1)},
    {
        "hull": "paint:#f0f0ec",
        "deck": "light_wood",
        "cabin": "paint:#f0f0ec",
        "glass": "glass",
        "mast": "wood",
        "sail": "fabric:#f4f0e4",
    },
    synonyms=(
        "boat",
        "ship",
        "yacht",
        "sailboat",
        "canoe",
        "rowboat",
        "dinghy",
        "fishing boat",
        "kayak",
        "vessel",
        "ferry",
    ),
    role_words={"hull": "hull", "deck": "deck", "sail": "sail", "sails": "sail", "cabin": "cabin"},
    size=(2.0, 60.0),
    styles={
        "sailboat": {"mast": 1.0},
        "yacht": {"cabin": 1.0, "mast": 0.0},
        "canoe": {"beam": 0.85, "depth": 0.4, "cabin": 0.0, "mast": 0.0},
        "kayak": {"beam": 0.85, "depth": 0.4, "cabin": 0.0, "mast": 0.0},
        "rowboat": {"beam": 1.3, "depth": 0.5, "length": 3.2, "cabin": 0.0, "mast": 0.0},
        "dinghy": {"beam": 1.3, "depth": 0.5, "length": 3.2, "cabin": 0.0, "mast": 0.0},
    },
)
def boat(b: Builder) -> None:
    length, beam, depth = b.p["length"], b.p["beam"], b.p["depth"]
    half = beam / 2
    top = [
        (0.0, depth, length / 2 + 0.2),
        (half * 0.7, depth, length * 0.25),
        (half, depth, -length * 0.1),
        (half * 0.85, depth, -length / 2),
        (-half * 0.85, depth, -length / 2),
        (-half, depth, -length * 0.1),
        (-half * 0.7, depth, length * 0.25),
    ]
    keel = [
        (0.0, 0.0, length / 2 - 0.2),
        (half * 0.3, 0.0, 0.0),
        (half * 0.45, 0.05, -length / 2 + 0.1),
        (-half * 0.45, 0.05, -length / 2 + 0.1),
        (-half * 0.3, 0.0, 0.0),
    ]
    hull(b, "hull", "hull", top + keel)
    deck = [(x * 0.92, depth, z * 0.95) for x, _, z in top] + [(x * 0.92, depth + 0.04, z * 0.95) for x, _, z in top]
    hull(b, "deck", "deck", deck)
    if b.p["mast"] > 0.5:
        mast = length * 0.9
        b.cylinder("mast", "mast", 0.05, mast, (0, depth, length * 0.1))
        b.prism(
            "sail",
            "sail",
            [(0.0, 0.3), (length * 0.55, 0.3), (0.0, mast * 0.95)],
            0.02,
            trimesh.transformations.translation_matrix((0, depth, length * 0.1 - 0.06))
            @ trimesh.transformations.rotation_matrix(np.pi / 2, (0, 1, 0)),
        )
    elif b.p["cabin"] > 0.4:
        b.box("cabin", "cabin", (-half * 0.55, depth, -length * 0.25), (half * 0.55, depth + 0.8, length * 0.1))
        b.box(
            "window",
            "glass",
            (-half * 0.5, depth + 0.45, length * 0.1 - 0.01),
            (half * 0.5, depth + 0.7, length * 0.1 + 0.02),
        )
