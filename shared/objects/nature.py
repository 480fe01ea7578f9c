"""Nature: trees, bushes, rocks, mushrooms, plants and flowers; organic shapes are noisy blobs and swept tubes."""

from __future__ import annotations

import math

import numpy as np
import trimesh

from shared.objects.base import Builder, factory, rotation_y
from shared.objects.tableware import vessel_profile

TREE_WORDS = {
    "trunk": "trunk",
    "bark": "trunk",
    "leaves": "foliage",
    "foliage": "foliage",
    "canopy": "foliage",
    "crown": "foliage",
}


def _trunk(b: Builder, height: float, radius: float, lean: float = 0.0) -> tuple[float, float, float]:
    """A tapering, slightly bent trunk; returns its top."""
    steps = 5
    angle = b.u(0, 2 * math.pi)
    path = [
        (
            lean * (i / steps) ** 2 * math.cos(angle) + b.u(-0.02, 0.02) * i,
            height * i / steps,
            lean * (i / steps) ** 2 * math.sin(angle),
        )
        for i in range(steps + 1)
    ]
    b.tube("trunk", "trunk", path, [radius * (1 - 0.45 * i / steps) for i in range(steps + 1)])
    return path[-1]


@factory(
    "deciduous_tree",
    "nature",
    {"height": (2.5, 5.0), "trunk": (0.1, 0.2), "crown": (0.9, 1.6), "clusters": (3, 5.99)},
    {"foliage": "leaf", "trunk": "bark"},
    synonyms=(
        "tree",
        "oak",
        "oak tree",
        "maple tree",
        "deciduous tree",
        "birch tree",
        "elm",
        "willow",
        "apple tree",
        "trees",
        "beech",
    ),
    role_words=TREE_WORDS,
    size=(1.0, 25.0),
)
def deciduous_tree(b: Builder) -> None:
    h, crown = b.p["height"], b.p["crown"]
    top = _trunk(b, h * 0.62, b.p["trunk"], b.u(0.0, 0.3))
    centre = (top[0], top[1] + crown * 0.55, top[2])
    b.blob("foliage", "foliage", crown, centre, 0.14, (1.0, 0.85, 1.0))
    for i in range(int(b.p["clusters"])):
        angle = 2 * math.pi * i / int(b.p["clusters"]) + b.u(-0.4, 0.4)
        r = crown * b.u(0.45, 0.65)
        b.blob(
            "foliage",
            "foliage",
            r,
            (
                centre[0] + math.cos(angle) * crown * 0.7,
                centre[1] + b.u(-0.3, 0.4) * crown,
                centre[2] + math.sin(angle) * crown * 0.7,
            ),
            0.15,
        )


@factory(
    "conifer_tree",
    "nature",
    {"height": (3.0, 7.0), "radius": (0.8, 1.4), "tiers": (3, 5.99), "trunk": (0.1, 0.18)},
    {"foliage": "needles", "trunk": "bark"},
    synonyms=(
        "pine",
        "pine tree",
        "conifer",
        "fir",
        "fir tree",
        "spruce",
        "christmas tree",
        "evergreen",
        "cedar",
        "cypress",
    ),
    role_words=TREE_WORDS,
    size=(1.0, 40.0),
    styles={"christmas": {"height": 2.2, "radius": 0.9}},
)
def conifer_tree(b: Builder) -> None:
    h, r, tiers = b.p["height"], b.p["radius"], int(b.p["tiers"])
    b.cylinder("trunk", "trunk", b.p["trunk"], h * 0.35)
    y = h * 0.2
    for i in range(tiers):
        tier_r = r * (1 - 0.7 * i / tiers)
        tier_h = (h - h * 0.2) / tiers * 1.7
        b.cone("foliage", "foliage", tier_r, tier_h, (b.u(-0.03, 0.03), y, b.u(-0.03, 0.03)))
        y += (h - h * 0.2 - tier_h * 0.3) / tiers


@factory(
    "palm_tree",
    "nature",
    {"height": (3.5, 7.0), "lean": (0.3, 1.3), "fronds": (6, 9.99), "frond": (1.4, 2.3)},
    {"fronds": "leaf", "trunk": "bark"},
    synonyms=("palm", "palm tree", "coconut tree", "date palm", "palms"),
    role_words={"trunk": "trunk", "leaves": "fronds", "fronds": "fronds"},
    size=(2.0, 25.0),
)
def palm_tree(b: Builder) -> None:
    h, lean = b.p["height"], b.p["lean"]
    steps = 8
    path = [(lean * (i / steps) ** 2, h * i / steps, 0.0) for i in range(steps + 1)]
    b.tube("trunk", "trunk", path, [0.17 - 0.07 * i / steps for i in range(steps + 1)])
    top = path[-1]
    count = int(b.p["fronds"])
    for i in range(count):
        length, droop = b.p["frond"] * b.u(0.85, 1.1), b.u(0.5, 0.9)
        outline = [
            (0.0, -0.02),
            (length * 0.35, -0.16),
            (length, -0.01),
            (length, 0.01),
            (length * 0.35, 0.16),
            (0.0, 0.02),
        ]
        bend = trimesh.transformations.rotation_matrix(-droop, (0, 0, 1)) @ trimesh.transformations.rotation_matrix(
            math.pi / 2, (1, 0, 0)
        )
        turn = rotation_y(2 * math.pi * i / count + b.u(-0.2, 0.2))
        b.prism("frond", "fronds", outline, 0.02, trimesh.transformations.translation_matrix(top) @ turn @ bend)
    b.sphere("coconuts", "trunk", 0.14, (top[0], top[1] - 0.1, top[2]), (1.2, 0.8, 1.2))


@factory(
    "bush",
    "nature",
    {"radius": (0.35, 0.8), "clumps": (2, 4.99), "squash": (0.6, 0.85)},
    {"foliage": "leaf"},
    synonyms=("bush", "shrub", "hedge", "shrubbery", "boxwood", "hedgerow"),
    role_words={"leaves": "foliage", "foliage": "foliage"},
    size=(0.3, 4.0),
)
def bush(b: Builder) -> None:
    r, squash = b.p["radius"], b.p["squash"]
    b.blob("foliage", "foliage", r, (0, r * squash * 0.8, 0), 0.16, (1.0, squash, 1.0))
    for i in range(int(b.p["clumps"])):
        angle = 2 * math.pi * i / int(b.p["clumps"]) + b.u(-0.5, 0.5)
        small = r * b.u(0.5, 0.7)
        b.blob(
            "foliage",
            "foliage",
            small,
            (math.cos(angle) * r * 0.65, small * squash * 0.8, math.sin(angle) * r * 0.65),
            0.16,
            (1.0, squash, 1.0),
        )


@factory(
    "rock",
    "nature",
    {"radius": (0.2, 0.9), "squash": (0.45, 0.8), "bumps": (0.12, 0.3), "stretch": (0.8, 1.3)},
    {"rock": "stone"},
    synonyms=("rock", "stone", "boulder", "pebble", "rocks", "crag", "cliff"),
    size=(0.05, 10.0),
)
def rock(b: Builder) -> None:
    r = b.p["radius"]
    boulder = b.blob("rock", "rock", r, (0, 0, 0), b.p["bumps"], (b.p["stretch"], b.p["squash"], 1.0))
    ground = -r * b.p["squash"] * 0.6  # bedded in the ground: its underside pressed flat
    boulder.vertices = boulder.vertices.clip(min=(-np.inf, ground, -np.inf))
    for _ in range(2):  # loose stones lying at its foot, on the same ground
        angle = b.u(0, 2 * math.pi)
        small = r * b.u(0.12, 0.22)
        reach = r * 0.8
        at = (math.cos(angle) * reach * b.p["stretch"], ground + small * 0.5, math.sin(angle) * reach)
        b.blob("pebble", "rock", small, at, 0.2, (1.0, 0.6, 1.0))


@factory(
    "mushroom",
    "nature",
    {"height": (0.08, 0.25), "cap": (0.05, 0.14), "stem": (0.015, 0.035), "dome": (0.35, 0.8)},
    {"cap": "paint:#b8302a", "stem": "paper:#efe6d2"},
    synonyms=("mushroom", "toadstool", "fungus", "fungi", "mushrooms", "amanita"),
    role_words={"cap": "cap", "stem": "stem"},
    size=(0.03, 1.5),
)
def mushroom(b: Builder) -> None:
    h, cap, stem = b.p["height"], b.p["cap"], b.p["stem"]
    b.lathe("stem", "stem", [(stem * 1.3, 0.0), (stem, h * 0.3), (stem * 0.85, h), (0.0, h)])
    dome = cap * b.p["dome"]
    profile = [
        (cap * math.sin(t), h - 0.01 + dome * math.cos(t)) for t in (math.pi / 2 * k / 6 for k in range(6, -1, -1))
    ]
    b.lathe("cap", "cap", [(stem * 0.8, h - 0.012), *profile])
    if b.flag("ornate"):
        for i in range(5):
            angle = 2 * math.pi * i / 5
            b.sphere(
                "spot",
                "stem",
                cap * 0.12,
                (math.cos(angle) * cap * 0.55, h + dome * 0.75, math.sin(angle) * cap * 0.55),
            )


@factory(
    "potted_plant",
    "nature",
    {"pot": (0.09, 0.18), "pot_height": (0.12, 0.25), "leaves": (5, 9.99), "leaf": (0.2, 0.45)},
    {"pot": "terracotta", "leaves": "leaf", "soil": "soil"},
    synonyms=(
        "potted plant",
        "plant",
        "houseplant",
        "house plant",
        "plant pot",
        "flower pot",
        "flowerpot",
        "succulent",
        "fern",
        "planter",
        "cactus",
    ),
    role_words={"pot": "pot", "leaves": "leaves", "leaf": "leaves", "planter": "pot"},
    size=(0.15, 2.0),
)
def potted_plant(b: Builder) -> None:
    r, h = b.p["pot"], b.p["pot_height"]
    b.lathe(
        "pot",
        "pot",
        vessel_profile(
            [(r * 0.7, 0.0), (r * 0.72, 0.01), (r, h * 0.9), (r * 1.08, h * 0.92), (r * 1.08, h)], 0.008, 0.015
        ),
    )
    b.cylinder("soil", "soil", r * 0.95, 0.02, (0, h * 0.8, 0))
    count = int(b.p["leaves"])
    for i in range(count):
        angle = 2 * math.pi * i / count + b.u(-0.3, 0.3)
        tilt = b.u(0.2, 0.9)
        length = b.p["leaf"] * b.u(0.75, 1.1)
        points = [
            (
                math.cos(angle) * length * math.sin(tilt * t) * 0.9,
                h * 0.82 + length * math.cos(tilt * t) * t,
                math.sin(angle) * length * math.sin(tilt * t) * 0.9,
            )
            for t in (0.0, 0.35, 0.7, 1.0)
        ]
        b.tube("leaf", "leaves", points, [0.012, 0.03, 0.025, 0.006])


@factory(
    "flower",
    "nature",
    {"height": (0.25, 0.6), "petals": (5, 8.99), "petal": (0.025, 0.05), "bloom": (0.015, 0.03)},
    {"petals": "petal", "stem": "leaf", "centre": "paint:#e0b020"},
    synonyms=("flower", "rose", "tulip", "daisy", "sunflower", "lily", "blossom", "flowers", "bloom"),
    role_words={"petals": "petals", "petal": "petals", "stem": "stem"},
    size=(0.05, 2.5),
)
def flower(b: Builder) -> None:
    h, count, petal, bloom = b.p["height"], int(b.p["petals"]), b.p["petal"], b.p["bloom"]
    b.tube("stem", "stem", [(0, 0, 0), (b.u(-0.02, 0.02), h * 0.5, 0), (0, h, 0)], 0.004)
    b.tube("leaf", "stem", [(0, h * 0.3, 0), (0.04, h * 0.38, 0.01), (0.08, h * 0.42, 0.02)], [0.003, 0.012, 0.002])
    b.sphere("centre", "centre", bloom, (0, h, 0), (1.0, 0.6, 1.0))
    for i in range(count):
        turn = trimesh.transformations.rotation_matrix(2 * math.pi * i / count, (0, 1, 0))
        lift = trimesh.transformations.rotation_matrix(0.35, (0, 0, 1))
        move = trimesh.transformations.translation_matrix((0, h, 0))
        mesh = b.sphere("petal", "petals", 1.0, (0, 0, 0), (petal, petal * 0.15, petal * 0.45))
        mesh.apply_translation((bloom + petal * 0.8, 0, 0))
        mesh.apply_transform(move @ turn @ lift)
