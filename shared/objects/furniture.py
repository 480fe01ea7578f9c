"""Furniture: seats, tables, storage, bed and lamps, at the sizes furniture catalogues list."""

from __future__ import annotations

import math

import trimesh

from shared.objects.base import Builder, factory, placed
from shared.objects.shapes import Z_TO_Y

LEGS = {"leg": "frame", "legs": "frame", "frame": "frame"}
SEAT = {"seat": "seat", "cushion": "seat", "cushions": "seat", "upholstery": "seat"}


def _legs(
    b: Builder, width: float, depth: float, height: float, thick: float, inset: float = 0.0, role: str = "frame"
) -> None:
    """Four legs under a rectangle centred on the origin, square or (``round``) turned."""
    for x in (-1, 1):
        for z in (-1, 1):
            cx, cz = x * (width / 2 - inset - thick / 2), z * (depth / 2 - inset - thick / 2)
            if b.flag("round"):
                b.cylinder("leg", role, thick / 2, height, (cx, 0, cz))
            else:
                b.box("leg", role, (cx - thick / 2, 0, cz - thick / 2), (cx + thick / 2, height, cz + thick / 2))


@factory(
    "chair",
    "furniture",
    {
        "seat_height": (0.42, 0.48),
        "width": (0.40, 0.50),
        "depth": (0.40, 0.48),
        "back": (0.38, 0.52),
        "leg": (0.03, 0.045),
        "slats": (2, 4.99),
    },
    {"frame": "wood", "seat": "wood"},
    synonyms=("chair", "chairs", "seat", "dining chair", "kitchen chair", "side chair"),
    role_words={**LEGS, **SEAT, "back": "frame"},
    size=(0.7, 1.2),
    turn=math.pi,
)
def chair(b: Builder) -> None:
    h, w, d, t = b.p["seat_height"], b.p["width"], b.p["depth"], b.p["leg"]
    _legs(b, w, d, h - 0.03, t)
    b.box("seat", "seat", (-w / 2, h - 0.04, -d / 2), (w / 2, h, d / 2))
    top = h + b.p["back"]
    for x in (-1, 1):
        b.box(
            "back_post",
            "frame",
            (x * w / 2 - t / 2 - x * t / 2, h, d / 2 - t),
            (x * w / 2 + t / 2 - x * t / 2, top, d / 2),
        )
    slats = int(b.p["slats"]) + (2 if b.flag("ornate") else 0)
    for i in range(slats):
        y = h + b.p["back"] * (0.35 + 0.6 * i / max(1, slats - 1)) if slats > 1 else top - 0.06
        b.box("back_slat", "frame", (-w / 2 + t, y - 0.035, d / 2 - t * 0.8), (w / 2 - t, y, d / 2 - t * 0.2))


@factory(
    "armchair",
    "furniture",
    {"width": (0.75, 0.95), "depth": (0.75, 0.9), "seat_height": (0.40, 0.46), "back": (0.45, 0.6), "arm": (0.12, 0.2)},
    {"upholstery": "fabric", "legs": "dark_wood"},
    synonyms=("armchair", "arm chair", "easy chair", "recliner", "lounge chair", "wingback"),
    role_words={"leg": "legs", "legs": "legs", "cushion": "upholstery", "seat": "upholstery"},
    size=(0.7, 1.3),
    turn=math.pi,
)
def armchair(b: Builder) -> None:
    w, d, h, arm = b.p["width"], b.p["depth"], b.p["seat_height"], b.p["arm"]
    _legs(b, w, d, 0.12, 0.05, 0.03, "legs")
    b.box("base", "upholstery", (-w / 2, 0.12, -d / 2), (w / 2, h - 0.1, d / 2))
    b.box("cushion", "upholstery", (-w / 2 + arm, h - 0.1, -d / 2 + 0.02), (w / 2 - arm, h, d / 2 - 0.15))
    b.box("back", "upholstery", (-w / 2, h - 0.1, d / 2 - 0.17), (w / 2, h + b.p["back"], d / 2))
    for x in (-1, 1):
        b.box(
            "arm",
            "upholstery",
            (min(x * w / 2, x * (w / 2 - arm)), h - 0.1, -d / 2),
            (max(x * w / 2, x * (w / 2 - arm)), h + 0.2, d / 2 - 0.1),
        )


@factory(
    "sofa",
    "furniture",
    {
        "width": (1.7, 2.3),
        "depth": (0.8, 0.95),
        "seat_height": (0.40, 0.46),
        "back": (0.38, 0.5),
        "arm": (0.14, 0.24),
        "cushions": (2, 3.99),
    },
    {"upholstery": "fabric", "legs": "dark_wood"},
    synonyms=("sofa", "couch", "settee", "loveseat", "divan", "chesterfield"),
    role_words={"leg": "legs", "legs": "legs", "cushion": "upholstery", "cushions": "upholstery"},
    size=(1.4, 3.0),
    turn=math.pi,
)
def sofa(b: Builder) -> None:
    w, d, h, arm = b.p["width"], b.p["depth"], b.p["seat_height"], b.p["arm"]
    _legs(b, w, d, 0.1, 0.05, 0.04, "legs")
    b.box("base", "upholstery", (-w / 2, 0.1, -d / 2), (w / 2, h - 0.12, d / 2))
    count = int(b.p["cushions"])
    inner = w - 2 * arm
    for i in range(count):
        x0 = -inner / 2 + inner * i / count
        b.box(
            "cushion", "upholstery", (x0 + 0.01, h - 0.12, -d / 2 + 0.03), (x0 + inner / count - 0.01, h, d / 2 - 0.2)
        )
    b.box("back", "upholstery", (-w / 2, h - 0.12, d / 2 - 0.2), (w / 2, h + b.p["back"], d / 2))
    for x in (-1, 1):
        b.box(
            "arm",
            "upholstery",
            (min(x * w / 2, x * (w / 2 - arm)), 0.1, -d / 2),
            (max(x * w / 2, x * (w / 2 - arm)), h + 0.18, d / 2 - 0.18),
        )


@factory(
    "stool",
    "furniture",
    {"height": (0.45, 0.75), "radius": (0.15, 0.2), "leg": (0.022, 0.032), "splay": (0.03, 0.08)},
    {"seat": "wood", "legs": "wood"},
    synonyms=("stool", "bar stool", "barstool", "footstool", "ottoman"),
    role_words={"leg": "legs", "legs": "legs", "seat": "seat"},
    size=(0.3, 1.0),
    styles={"bar": {"height": 0.76}, "barstool": {"height": 0.76}, "footstool": {"height": 0.35, "radius": 0.17}},
)
def stool(b: Builder) -> None:
    h, r, t, splay = b.p["height"], b.p["radius"], b.p["leg"], b.p["splay"]
    b.cylinder("seat", "seat", r, 0.04, (0, h - 0.04, 0))
    legs = 3 if b.flag("round") else 4
    for i in range(legs):
        angle = 2 * math.pi * (i + 0.5) / legs
        c, s = math.cos(angle), math.sin(angle)
        b.rod(
            "leg", "legs", ((r * 0.6 + splay) * c, 0.0, (r * 0.6 + splay) * s), (r * 0.6 * c, h - 0.03, r * 0.6 * s), t
        )
    ring = r * 0.6 + splay * 0.7
    b.add(
        "footrest",
        "legs",
        placed(
            trimesh.transformations.translation_matrix((0, h * 0.3, 0)) @ Z_TO_Y,
            trimesh.creation.torus(ring, t * 0.5, major_sections=b.sections, minor_sections=max(6, b.sections // 3)),
        ),
    )


def _table(b: Builder, height: float, width: float, depth: float, top: float, leg: float, apron: bool) -> None:
    if b.flag("round"):
        radius = max(width, depth) / 2
        b.cylinder("top", "top", radius, top, (0, height - top, 0))
        b.cylinder("pedestal", "frame", leg * 1.2, height - top, (0, 0, 0))
        b.cylinder("foot", "frame", radius * 0.45, 0.04, (0, 0, 0))
        return
    b.box("top", "top", (-width / 2, height - top, -depth / 2), (width / 2, height, depth / 2))
    _legs(b, width, depth, height - top, leg, 0.04)
    if apron:
        inset = 0.04 + leg
        b.box(
            "apron",
            "frame",
            (-width / 2 + inset, height - top - 0.08, -depth / 2 + inset),
            (width / 2 - inset, height - top, -depth / 2 + inset + 0.02),
        )
        b.box(
            "apron",
            "frame",
            (-width / 2 + inset, height - top - 0.08, depth / 2 - inset - 0.02),
            (width / 2 - inset, height - top, depth / 2 - inset),
        )
    if b.flag("ornate"):
        b.box("stretcher", "frame", (-width / 2 + 0.06, 0.12, -0.015), (width / 2 - 0.06, 0.15, 0.015))


TABLE_WORDS = {"top": "top", "tabletop": "top", "leg": "frame", "legs": "frame", "base": "frame"}


@factory(
    "dining_table",
    "furniture",
    {"height": (0.72, 0.77), "width": (1.4, 2.0), "depth": (0.8, 1.0), "top": (0.03, 0.05), "leg": (0.05, 0.08)},
    {"top": "wood", "frame": "wood"},
    synonyms=("dining table", "table", "kitchen table", "tables", "farmhouse table", "banquet table"),
    role_words=TABLE_WORDS,
    size=(1.0, 3.0),
)
def dining_table(b: Builder) -> None:
    _table(b, b.p["height"], b.p["width"], b.p["depth"], b.p["top"], b.p["leg"], True)


@factory(
    "coffee_table",
    "furniture",
    {
        "height": (0.38, 0.46),
        "width": (0.9, 1.3),
        "depth": (0.5, 0.7),
        "top": (0.025, 0.05),
        "leg": (0.04, 0.06),
        "shelf": (0, 1),
    },
    {"top": "wood", "frame": "wood"},
    synonyms=("coffee table", "side table", "end table", "cocktail table", "low table", "tea table"),
    role_words=TABLE_WORDS,
    size=(0.5, 1.6),
    styles={"side": {"width": 0.5, "depth": 0.5, "height": 0.55}, "end": {"width": 0.5, "depth": 0.5, "height": 0.55}},
)
def coffee_table(b: Builder) -> None:
    w, d = b.p["width"], b.p["depth"]
    _table(b, b.p["height"], w, d, b.p["top"], b.p["leg"], False)
    if b.p["shelf"] > 0.5 and not b.flag("round"):
        b.box("shelf", "top", (-w / 2 + 0.05, 0.1, -d / 2 + 0.05), (w / 2 - 0.05, 0.12, d / 2 - 0.05))


@factory(
    "desk",
    "furniture",
    {"height": (0.72, 0.76), "width": (1.1, 1.6), "depth": (0.55, 0.75), "drawers": (2, 4.99)},
    {"top": "wood", "frame": "wood", "handles": "metal"},
    synonyms=("desk", "writing desk", "office desk", "computer desk", "workbench", "bureau"),
    role_words=TABLE_WORDS,
    size=(0.8, 2.0),
    turn=math.pi,
)
def desk(b: Builder) -> None:
    h, w, d = b.p["height"], b.p["width"], b.p["depth"]
    b.box("top", "top", (-w / 2, h - 0.035, -d / 2), (w / 2, h, d / 2))
    pedestal = 0.42
    b.box("pedestal", "frame", (w / 2 - pedestal, 0, -d / 2 + 0.02), (w / 2 - 0.02, h - 0.035, d / 2 - 0.02))
    b.box("side_panel", "frame", (-w / 2 + 0.02, 0, -d / 2 + 0.02), (-w / 2 + 0.05, h - 0.035, d / 2 - 0.02))
    b.box(
        "modesty_panel", "frame", (-w / 2 + 0.05, h * 0.45, d / 2 - 0.04), (w / 2 - pedestal, h - 0.035, d / 2 - 0.02)
    )
    count = int(b.p["drawers"])
    for i in range(count):
        y = (h - 0.05) * (i + 0.5) / count
        b.box(
            "handle",
            "handles",
            (w / 2 - pedestal / 2 - 0.06, y - 0.01, -d / 2 + 0.0),
            (w / 2 - pedestal / 2 + 0.06, y + 0.01, -d / 2 + 0.03),
        )


@factory(
    "bed",
    "furniture",
    {"width": (0.95, 1.85), "length": (2.0, 2.15), "height": (0.45, 0.6), "headboard": (0.4, 0.7)},
    {"frame": "wood", "mattress": "fabric", "pillow": "fabric", "blanket": "fabric"},
    synonyms=("bed", "double bed", "single bed", "king bed", "queen bed", "bunk", "cot"),
    role_words={
        "frame": "frame",
        "headboard": "frame",
        "mattress": "mattress",
        "pillow": "pillow",
        "pillows": "pillow",
        "blanket": "blanket",
        "duvet": "blanket",
        "sheets": "blanket",
    },
    size=(1.8, 2.6),
    turn=math.pi,
    styles={"single": {"width": 0.95}, "double": {"width": 1.45}, "queen": {"width": 1.6}, "king": {"width": 1.85}},
)
def bed(b: Builder) -> None:
    w, length, h = b.p["width"], b.p["length"], b.p["height"]
    _legs(b, w, length, 0.2, 0.07)
    b.box("frame", "frame", (-w / 2, 0.15, -length / 2), (w / 2, 0.3, length / 2))
    b.box("mattress", "mattress", (-w / 2 + 0.03, 0.3, -length / 2 + 0.03), (w / 2 - 0.03, h, length / 2 - 0.03))
    b.box("blanket", "blanket", (-w / 2 + 0.01, h - 0.2, -length / 2 + 0.01), (w / 2 - 0.01, h + 0.02, length * 0.2))
    b.box("headboard", "frame", (-w / 2, 0, length / 2 - 0.05), (w / 2, h + b.p["headboard"], length / 2))
    pillows = 2 if w > 1.2 else 1
    for i in range(pillows):
        x0 = -w / 2 + 0.08 + (w - 0.16) * i / pillows
        b.box(
            "pillow",
            "pillow",
            (x0 + 0.02, h, length / 2 - 0.5),
            (x0 + (w - 0.16) / pillows - 0.02, h + 0.12, length / 2 - 0.12),
        )


BOOK_COLOURS = ("#8e3b46", "#2f5d8a", "#d9a441", "#3d7a4f", "#e8e0cf", "#5a3a6a", "#b85a2a", "#2a2a30")


@factory(
    "bookshelf",
    "furniture",
    {"width": (0.7, 1.2), "height": (1.5, 2.1), "depth": (0.28, 0.38), "shelves": (3, 5.99), "fill": (0.6, 0.95)},
    {"frame": "wood", **{f"book_{i}": f"paper:{c}" for i, c in enumerate(BOOK_COLOURS)}},
    synonyms=("bookshelf", "bookcase", "book shelf", "shelf", "shelves", "shelving", "books", "library shelf"),
    role_words={"frame": "frame", "shelf": "frame", "shelves": "frame"},
    size=(0.8, 2.6),
    turn=math.pi,
    styles={"full": {"fill": 0.95}, "empty": {"fill": 0.0}},
)
def bookshelf(b: Builder) -> None:
    w, h, d, t = b.p["width"], b.p["height"], b.p["depth"], 0.022
    b.box("side", "frame", (-w / 2, 0, -d / 2), (-w / 2 + t, h, d / 2))
    b.box("side", "frame", (w / 2 - t, 0, -d / 2), (w / 2, h, d / 2))
    b.box("back", "frame", (-w / 2 + t, 0, d / 2 - 0.01), (w / 2 - t, h, d / 2))
    levels = int(b.p["shelves"])
    pitch = (h - t) / levels
    for i in range(levels + 1):
        y = i * pitch
        b.box("shelf", "frame", (-w / 2 + t, y, -d / 2), (w / 2 - t, y + t, d / 2 - 0.01))
    # the books of one colour are one part: a shelf holds dozens, and a part per book is slow to write
    spines: dict[int, list[trimesh.Trimesh]] = {}
    book = 0
    for i in range(levels):
        x, y, limit = -w / 2 + t + 0.01, i * pitch + t, -w / 2 + t + (w - 2 * t) * b.p["fill"]
        while x < limit:
            thick, tall = b.u(0.02, 0.05), min(pitch - t - 0.02, b.u(0.18, 0.3))
            deep = b.u(0.15, min(0.24, d - 0.04))
            box = trimesh.creation.box(bounds=[(x, y, -d / 2 + 0.02), (x + thick, y + tall, -d / 2 + 0.02 + deep)])
            spines.setdefault(book % len(BOOK_COLOURS), []).append(box)
            x += thick + 0.003
            book += 1
    for colour, boxes in sorted(spines.items()):
        b.add(f"books_{colour}", f"book_{colour}", trimesh.util.concatenate(boxes))


@factory(
    "cabinet",
    "furniture",
    {"width": (0.6, 1.2), "height": (0.8, 1.9), "depth": (0.4, 0.55), "doors": (1, 2.99)},
    {"body": "wood", "handles": "metal"},
    synonyms=(
        "cabinet",
        "cupboard",
        "wardrobe",
        "dresser",
        "chest of drawers",
        "sideboard",
        "armoire",
        "closet",
        "nightstand",
        "drawers",
    ),
    role_words={"handle": "handles", "handles": "handles", "knobs": "handles"},
    size=(0.4, 2.4),
    turn=math.pi,
)
def cabinet(b: Builder) -> None:
    w, h, d = b.p["width"], b.p["height"], b.p["depth"]
    b.box("plinth", "body", (-w / 2 + 0.03, 0, -d / 2 + 0.03), (w / 2 - 0.03, 0.08, d / 2 - 0.03))
    b.box("carcass", "body", (-w / 2, 0.08, -d / 2), (w / 2, h - 0.03, d / 2))
    b.box("top", "body", (-w / 2 - 0.015, h - 0.03, -d / 2 - 0.015), (w / 2 + 0.015, h, d / 2 + 0.015))
    doors = int(b.p["doors"])
    for i in range(doors):
        x0 = -w / 2 + 0.01 + (w - 0.02) * i / doors
        x1 = x0 + (w - 0.02) / doors - 0.006
        b.box("door", "body", (x0, 0.1, -d / 2 - 0.018), (x1, h - 0.05, -d / 2 + 0.001))
        hx = x1 - 0.05 if i % 2 == 0 else x0 + 0.05
        b.box(
            "handle",
            "handles",
            (hx - 0.008, h * 0.5 - 0.06, -d / 2 - 0.04),
            (hx + 0.008, h * 0.5 + 0.06, -d / 2 - 0.017),
        )


@factory(
    "table_lamp",
    "furniture",
    {
        "height": (0.35, 0.6),
        "base": (0.07, 0.11),
        "shade_bottom": (0.13, 0.2),
        "shade_top": (0.08, 0.13),
        "shade_height": (0.15, 0.24),
    },
    {"base": "ceramic", "shade": "fabric", "stem": "metal", "bulb": "light"},
    synonyms=("table lamp", "desk lamp", "bedside lamp", "lamp", "lampshade", "reading lamp", "lantern"),
    role_words={"shade": "shade", "lampshade": "shade", "base": "base", "stem": "stem"},
    size=(0.25, 0.9),
)
def table_lamp(b: Builder) -> None:
    h, r, sh = b.p["height"], b.p["base"], b.p["shade_height"]
    body = h * 0.35
    b.lathe("base", "base", [(r * 0.9, 0), (r, 0.02), (r * 1.3, body * 0.5), (r * 0.5, body), (0, body)])
    b.cylinder("stem", "stem", 0.008, h - sh * 0.5 - body, (0, body - 0.005, 0))
    b.sphere("bulb", "bulb", 0.03, (0, h - sh * 0.55, 0))
    bottom, top = b.p["shade_bottom"], b.p["shade_top"]
    y0 = h - sh
    b.lathe(
        "shade", "shade", [(bottom, y0), (top, h), (top - 0.004, h), (bottom - 0.004, y0 + 0.002), (bottom - 0.004, y0)]
    )


@factory(
    "floor_lamp",
    "furniture",
    {"height": (1.45, 1.8), "base": (0.13, 0.18), "shade_bottom": (0.18, 0.26), "shade_height": (0.22, 0.32)},
    {"stand": "dark_metal", "shade": "fabric", "bulb": "light"},
    synonyms=("floor lamp", "standing lamp", "standard lamp", "torchiere", "arc lamp"),
    role_words={"shade": "shade", "lampshade": "shade", "base": "stand", "pole": "stand", "stand": "stand"},
    size=(1.0, 2.2),
)
def floor_lamp(b: Builder) -> None:
    h, sh, bottom = b.p["height"], b.p["shade_height"], b.p["shade_bottom"]
    b.lathe("base", "stand", [(b.p["base"], 0), (b.p["base"], 0.025), (0.03, 0.04), (0, 0.04)])
    b.cylinder("pole", "stand", 0.013, h - sh * 0.5, (0, 0.03, 0))
    b.sphere("bulb", "bulb", 0.035, (0, h - sh * 0.5, 0))
    y0 = h - sh
    top = bottom * 0.7
    b.lathe(
        "shade", "shade", [(bottom, y0), (top, h), (top - 0.005, h), (bottom - 0.005, y0 + 0.002), (bottom - 0.005, y0)]
    )
