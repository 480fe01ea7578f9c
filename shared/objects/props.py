"""Props and buildings: crates, barrels, chests, arms, street furniture, a house and a tower."""

from __future__ import annotations

import math

import trimesh

from shared.objects.base import Builder, factory

METAL_WORDS = {"bands": "metal", "hoops": "metal", "straps": "metal", "lock": "metal"}


@factory(
    "crate",
    "props",
    {"size": (0.45, 1.0), "plank": (0.06, 0.1), "height": (0.8, 1.0)},
    {"body": "light_wood", "planks": "wood"},
    synonyms=("crate", "box", "wooden box", "cube", "shipping crate", "cargo box", "cardboard box", "package"),
    role_words={"planks": "planks", "frame": "planks"},
    size=(0.2, 2.5),
)
def crate(b: Builder) -> None:
    s, t, h = b.p["size"], b.p["plank"], b.p["size"] * b.p["height"]
    b.box("body", "body", (-s / 2, 0, -s / 2), (s / 2, h, s / 2))
    for y in (0.0, h - t):
        for z in (-1, 1):
            b.box("plank", "planks", (-s / 2 - 0.01, y, z * s / 2 - t / 2), (s / 2 + 0.01, y + t, z * s / 2 + t / 2))
        for x in (-1, 1):
            b.box("plank", "planks", (x * s / 2 - t / 2, y, -s / 2 + t / 2), (x * s / 2 + t / 2, y + t, s / 2 - t / 2))
    for x in (-1, 1):
        for z in (-1, 1):
            b.box(
                "post",
                "planks",
                (x * s / 2 - t / 2, t, z * s / 2 - t / 2),
                (x * s / 2 + t / 2, h - t, z * s / 2 + t / 2),
            )


@factory(
    "barrel",
    "props",
    {"height": (0.8, 1.0), "radius": (0.26, 0.34), "bulge": (1.08, 1.2)},
    {"body": "wood", "metal": "dark_metal"},
    synonyms=("barrel", "keg", "cask", "drum", "oil drum", "barrels"),
    role_words=METAL_WORDS,
    size=(0.3, 2.0),
)
def barrel(b: Builder) -> None:
    h, r, bulge = b.p["height"], b.p["radius"], b.p["bulge"]
    steps = 8
    outer = [(r * (1 + (bulge - 1) * math.sin(math.pi * i / steps)), h * i / steps) for i in range(steps + 1)]
    b.lathe("body", "body", outer)
    for y in (0.1, 0.3, 0.7, 0.9):
        radius = r * (1 + (bulge - 1) * math.sin(math.pi * y)) + 0.006
        b.cylinder("hoop", "metal", radius, 0.035, (0, h * y - 0.0175, 0))


@factory(
    "chest",
    "props",
    {"width": (0.7, 1.1), "depth": (0.45, 0.6), "height": (0.4, 0.55)},
    {"body": "wood", "metal": "gold"},
    synonyms=("chest", "treasure chest", "trunk", "coffer", "toy box", "footlocker", "treasure"),
    role_words=METAL_WORDS,
    size=(0.3, 2.0),
)
def chest(b: Builder) -> None:
    w, d, h = b.p["width"], b.p["depth"], b.p["height"]
    b.box("body", "body", (-w / 2, 0, -d / 2), (w / 2, h, d / 2))
    lid = trimesh.creation.cylinder(d / 2, w, sections=b.sections)
    lid.apply_transform(
        trimesh.transformations.translation_matrix((0, h, 0))
        @ trimesh.transformations.rotation_matrix(math.pi / 2, (0, 1, 0))
    )
    lid.vertices[:, 1] = h + (lid.vertices[:, 1] - h).clip(-0.01) * 0.7
    b.add("lid", "body", lid)
    for x in (-w * 0.35, w * 0.35):
        b.box("band", "metal", (x - 0.025, -0.005, -d / 2 - 0.01), (x + 0.025, h, d / 2 + 0.01))
        band = trimesh.creation.cylinder(d / 2 + 0.012, 0.05, sections=b.sections)
        band.apply_transform(
            trimesh.transformations.translation_matrix((x, h, 0))
            @ trimesh.transformations.rotation_matrix(math.pi / 2, (0, 1, 0))
        )
        band.vertices[:, 1] = h + (band.vertices[:, 1] - h).clip(-0.01) * 0.7
        b.add("band", "metal", band)
    b.box("lock", "metal", (-0.05, h - 0.1, -d / 2 - 0.03), (0.05, h + 0.02, -d / 2 + 0.01))


@factory(
    "sword",
    "props",
    {"blade": (0.65, 0.95), "width": (0.035, 0.06), "guard": (0.16, 0.28), "grip": (0.1, 0.2)},
    {"blade": "silver", "hilt": "bronze", "grip": "leather"},
    synonyms=(
        "sword",
        "blade",
        "longsword",
        "broadsword",
        "katana",
        "sabre",
        "saber",
        "rapier",
        "dagger",
        "claymore",
        "scimitar",
        "excalibur",
    ),
    role_words={"blade": "blade", "hilt": "hilt", "guard": "hilt", "grip": "grip", "handle": "grip", "pommel": "hilt"},
    size=(0.25, 2.0),
    styles={
        "dagger": {"blade": 0.28, "guard": 0.12, "grip": 0.1},
        "katana": {"width": 0.032, "guard": 0.09, "grip": 0.26},
        "longsword": {"blade": 1.0, "grip": 0.22},
        "claymore": {"blade": 1.1, "guard": 0.4, "grip": 0.3},
        "rapier": {"width": 0.022, "blade": 0.95},
    },
)
def sword(b: Builder) -> None:
    blade, w, guard, grip = b.p["blade"], b.p["width"], b.p["guard"], b.p["grip"]
    b.sphere("pommel", "hilt", 0.028, (0, 0.028, 0))
    b.cylinder("grip", "grip", 0.016, grip, (0, 0.045, 0))
    y = 0.045 + grip
    b.box("guard", "hilt", (-guard / 2, y, -0.018), (guard / 2, y + 0.025, 0.018))
    if b.flag("ornate"):
        for side in (-1, 1):
            b.sphere("guard_end", "hilt", 0.02, (side * guard / 2, y + 0.0125, 0))
    y += 0.025
    outline = [
        (-w / 2, y),
        (w / 2, y),
        (w / 2 * 0.8, y + blade * 0.85),
        (0.0, y + blade),
        (-w / 2 * 0.8, y + blade * 0.85),
    ]
    b.prism("blade", "blade", outline, 0.008)


@factory(
    "shield",
    "props",
    {"radius": (0.3, 0.45), "dome": (0.03, 0.08), "boss": (0.06, 0.1), "heater": (0, 1)},
    {"face": "wood", "metal": "dark_metal"},
    synonyms=("shield", "buckler", "kite shield", "round shield", "heater shield", "targe"),
    role_words={"face": "face", "boss": "metal", "rim": "metal"},
    size=(0.3, 1.5),
    styles={"kite": {"heater": 1.0}, "heater": {"heater": 1.0}, "buckler": {"radius": 0.2, "heater": 0.0}},
)
def shield(b: Builder) -> None:
    r, dome = b.p["radius"], b.p["dome"]
    facing = trimesh.transformations.rotation_matrix(math.pi / 2, (1, 0, 0))  # lathe axis +Y -> +Z (faces the front)
    lift = trimesh.transformations.translation_matrix((0, r, 0))
    if b.p["heater"] > 0.6 and not b.flag("round"):
        outline = [
            (-r * 0.9, r * 0.9),
            (r * 0.9, r * 0.9),
            (r * 0.85, 0.0),
            (r * 0.5, -r * 0.8),
            (0.0, -r * 1.1),
            (-r * 0.5, -r * 0.8),
            (-r * 0.85, 0.0),
        ]
        b.prism("face", "face", outline, 0.03, lift)
        b.prism("rim", "metal", [(x * 1.04, y * 1.04 - 0.005) for x, y in outline], 0.02, lift)
    else:
        b.lathe(
            "face", "face", [(r, 0.0), (r, 0.02), (r * 0.6, 0.02 + dome * 0.6), (0.0, 0.02 + dome)]
        ).apply_transform(lift @ facing)
        b.add(
            "rim",
            "metal",
            trimesh.creation.torus(r, 0.012, major_sections=b.sections, minor_sections=8).apply_transform(
                trimesh.transformations.translation_matrix((0, r, 0.01))
            ),
        )
    boss = b.sphere("boss", "metal", b.p["boss"], (0, 0, 0), (1.0, 1.0, 0.6))
    boss.apply_translation((0, r, 0.02 + dome * 0.7))


@factory(
    "bench",
    "props",
    {"width": (1.2, 1.9), "seat_height": (0.42, 0.46), "depth": (0.4, 0.5), "back": (0, 1), "slats": (3, 5.99)},
    {"slats": "wood", "frame": "dark_metal"},
    synonyms=("bench", "park bench", "garden bench", "pew", "benches"),
    role_words={"slats": "slats", "seat": "slats", "frame": "frame", "legs": "frame"},
    size=(0.8, 3.5),
    turn=math.pi,
)
def bench(b: Builder) -> None:
    w, h, d = b.p["width"], b.p["seat_height"], b.p["depth"]
    count = int(b.p["slats"])
    for i in range(count):
        z0 = -d / 2 + d * i / count
        b.box("slat", "slats", (-w / 2, h - 0.035, z0 + 0.006), (w / 2, h, z0 + d / count - 0.006))
    back = b.p["back"] > 0.3
    for x in (-w / 2 + 0.12, w / 2 - 0.16):
        b.box("leg", "frame", (x, 0, -d / 2 + 0.02), (x + 0.04, h - 0.035, -d / 2 + 0.06))
        b.box("leg", "frame", (x, 0, d / 2 - 0.06), (x + 0.04, h + (0.42 if back else -0.035), d / 2 - 0.02))
        b.box("rail", "frame", (x, h - 0.08, -d / 2 + 0.02), (x + 0.04, h - 0.035, d / 2 - 0.02))
    if back:
        for y in (h + 0.12, h + 0.28):
            b.box("back_slat", "slats", (-w / 2, y, d / 2 - 0.02), (w / 2, y + 0.09, d / 2 + 0.005))


@factory(
    "fence",
    "props",
    {"length": (2.0, 3.2), "height": (0.9, 1.3), "posts": (3, 4.99), "pickets": (0, 1)},
    {"wood": "light_wood"},
    synonyms=("fence", "picket fence", "railing", "fencing", "palisade", "gate", "fence section"),
    role_words={"posts": "wood", "rails": "wood"},
    size=(0.5, 10.0),
    styles={"picket": {"pickets": 1.0}, "railing": {"pickets": 0.0}},
)
def fence(b: Builder) -> None:
    length, h, posts = b.p["length"], b.p["height"], int(b.p["posts"])
    for i in range(posts):
        x = -length / 2 + length * i / (posts - 1)
        b.box("post", "wood", (x - 0.05, 0, -0.05), (x + 0.05, h, 0.05))
        b.box("post_cap", "wood", (x - 0.06, h, -0.06), (x + 0.06, h + 0.03, 0.06))
    for y in (h * 0.3, h * 0.75):
        b.box("rail", "wood", (-length / 2, y, 0.05), (length / 2, y + 0.07, 0.08))
    if b.p["pickets"] > 0.4:
        x = -length / 2 + 0.1
        while x < length / 2 - 0.1:
            b.prism(
                "picket",
                "wood",
                [(x, 0.05), (x + 0.07, 0.05), (x + 0.07, h * 0.9), (x + 0.035, h * 0.97), (x, h * 0.9)],
                0.02,
                trimesh.transformations.translation_matrix((0, 0, 0.09)),
            )
            x += 0.13


@factory(
    "street_lamp",
    "props",
    {"height": (3.5, 5.0), "arm": (0.4, 0.8), "pole": (0.05, 0.08), "lantern": (0, 1)},
    {"pole": "dark_metal", "light": "light"},
    synonyms=(
        "street lamp",
        "streetlight",
        "street light",
        "lamp post",
        "lamppost",
        "street lantern",
        "light pole",
        "lightpost",
    ),
    role_words={"pole": "pole", "post": "pole", "light": "light"},
    size=(2.0, 12.0),
    styles={"lantern": {"lantern": 1.0}, "modern": {"lantern": 0.0}},
)
def street_lamp(b: Builder) -> None:
    h, arm, pole = b.p["height"], b.p["arm"], b.p["pole"]
    b.lathe("base", "pole", [(pole * 2.5, 0.0), (pole * 2.5, 0.25), (pole * 1.3, 0.45), (0.0, 0.45)])
    b.cylinder("pole", "pole", pole, h - 0.4, (0, 0.4, 0))
    if b.p["lantern"] > 0.5 or b.flag("ornate"):
        b.lathe("lantern", "light", [(0.09, h), (0.16, h + 0.3), (0.0, h + 0.3)])
        b.cone("roof", "pole", 0.22, 0.2, (0, h + 0.3, 0))
        return
    b.tube("arm", "pole", [(0, h - 0.3, 0), (arm * 0.3, h, 0), (arm, h + 0.05, 0)], pole * 0.6)
    b.box("head", "pole", (arm - 0.05, h - 0.05, -0.12), (arm + 0.4, h + 0.08, 0.12))
    b.box("bulb", "light", (arm, h - 0.08, -0.1), (arm + 0.35, h - 0.04, 0.1))


@factory(
    "house",
    "props",
    {"width": (6.0, 10.0), "depth": (5.0, 8.0), "wall": (2.6, 3.2), "floors": (1, 2.99), "pitch": (0.35, 0.6)},
    {"walls": "paint:#e4dccb", "roof": "brick", "door": "dark_wood", "windows": "glass", "chimney": "brick"},
    synonyms=(
        "house",
        "cottage",
        "cabin",
        "home",
        "hut",
        "bungalow",
        "villa",
        "farmhouse",
        "barn",
        "shed",
        "building",
        "houses",
    ),
    role_words={
        "walls": "walls",
        "wall": "walls",
        "roof": "roof",
        "door": "door",
        "windows": "windows",
        "chimney": "chimney",
    },
    size=(3.0, 30.0),
    styles={
        "two": {"floors": 2},
        "cottage": {"floors": 1},
        "bungalow": {"floors": 1},
        "villa": {"floors": 2, "width": 10.0},
        "barn": {"floors": 2, "pitch": 0.6},
        "shed": {"width": 3.5, "depth": 3.0, "wall": 2.4, "floors": 1},
    },
)
def house(b: Builder) -> None:
    w, d, floors = b.p["width"], b.p["depth"], int(b.p["floors"])
    h = b.p["wall"] * floors
    b.box("walls", "walls", (-w / 2, 0, -d / 2), (w / 2, h, d / 2))
    ridge = d / 2 * b.p["pitch"] * 2
    roof = [(-d / 2 - 0.4, h - 0.1), (d / 2 + 0.4, h - 0.1), (0.0, h + ridge)]
    b.prism("roof", "roof", roof, w + 0.6, trimesh.transformations.rotation_matrix(math.pi / 2, (0, 1, 0)))
    b.box("door", "door", (-0.5, 0, d / 2 - 0.02), (0.5, 2.1, d / 2 + 0.06))
    for floor in range(floors):
        y = floor * b.p["wall"] + 1.0
        for x in (-w * 0.3, w * 0.3):
            b.box("window", "windows", (x - 0.55, y, d / 2 - 0.02), (x + 0.55, y + 1.1, d / 2 + 0.04))
            b.box("window", "windows", (x - 0.55, y, -d / 2 - 0.04), (x + 0.55, y + 1.1, -d / 2 + 0.02))
    b.box("chimney", "chimney", (w * 0.25, h, -d * 0.2), (w * 0.25 + 0.6, h + ridge * 0.9, -d * 0.2 + 0.6))


@factory(
    "tower",
    "props",
    {"height": (10.0, 22.0), "radius": (2.0, 3.5), "taper": (0.8, 1.0), "roof": (0, 1), "merlons": (8, 12.99)},
    {"walls": "stone", "roof": "dark_metal", "windows": "glass"},
    synonyms=(
        "tower",
        "castle tower",
        "watchtower",
        "lighthouse",
        "turret",
        "keep",
        "castle",
        "fortress",
        "skyscraper",
        "spire",
        "minaret",
    ),
    role_words={"walls": "walls", "roof": "roof", "windows": "windows"},
    size=(4.0, 120.0),
    styles={"lighthouse": {"roof": 1.0, "taper": 0.8}, "castle": {"roof": 0.0}, "watchtower": {"roof": 0.0}},
)
def tower(b: Builder) -> None:
    h, r, taper = b.p["height"], b.p["radius"], b.p["taper"]
    b.lathe("walls", "walls", [(r * 1.1, 0.0), (r * 1.1, 0.8), (r, 1.0), (r * taper, h), (0.0, h)])
    top_r = r * taper
    if b.p["roof"] > 0.5 or b.flag("ornate"):
        b.lathe("roof_ledge", "walls", [(top_r + 0.3, h), (top_r + 0.3, h + 0.4), (0.0, h + 0.4)])
        b.cone("roof", "roof", top_r + 0.5, h * 0.35, (0, h + 0.4, 0))
    else:
        b.lathe("parapet_floor", "walls", [(top_r + 0.35, h), (top_r + 0.35, h + 0.3), (0.0, h + 0.3)])
        count = int(b.p["merlons"])
        for i in range(count):
            angle = 2 * math.pi * i / count
            x, z = math.cos(angle) * (top_r + 0.1), math.sin(angle) * (top_r + 0.1)
            b.box("merlon", "walls", (x - 0.3, h + 0.3, z - 0.3), (x + 0.3, h + 1.1, z + 0.3))
    for y in (h * 0.35, h * 0.65):
        radius_here = r + (top_r - r) * y / h
        b.box("window", "windows", (-0.35, y, radius_here - 0.2), (0.35, y + 1.2, radius_here + 0.08))
    b.box("door", "roof", (-0.6, 0, r * 1.1 - 0.2), (0.6, 2.4, r * 1.1 + 0.06))
