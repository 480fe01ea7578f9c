"""Tableware and containers: turned vessels (hollow, with a wall and a floor), handles swept as tubes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from shared.objects.base import Builder, factory


def vessel_profile(outer: Sequence[tuple[float, float]], wall: float, floor: float) -> list[tuple[float, float]]:
    """A hollow vessel's lathe profile: up the outside (``outer``, bottom to rim), down the inside.

    The inside follows the outside ``wall`` inwards, down to a floor ``floor`` thick; the profile starts
    and ends on the axis, so the turned solid is closed.
    """
    inner = [(max(r - wall, 0.002), max(y, floor)) for r, y in reversed(outer[1:]) if y > floor]
    rim_r, rim_y = outer[-1]
    return [(0.0, 0.0), *outer, (max(rim_r - wall, 0.002), rim_y), *inner[1:], (inner[-1][0], floor), (0.0, floor)]


def _handle(b: Builder, name: str, role: str, x: float, y0: float, y1: float, reach: float, radius: float) -> None:
    """A C-shaped handle from (x, y0) to (x, y1) bulging ``reach`` out along +X."""
    steps = max(6, b.sections // 2)
    angles = np.linspace(-math.pi / 2, math.pi / 2, steps)
    mid, half = (y0 + y1) / 2, (y1 - y0) / 2
    path = [(x - radius + reach * math.cos(a), mid + half * math.sin(a), 0.0) for a in angles]
    b.tube(name, role, path, radius)


@factory(
    "vase",
    "tableware",
    {"height": (0.22, 0.45), "belly": (0.07, 0.13), "neck": (0.03, 0.06), "lip": (0.04, 0.08), "belly_at": (0.3, 0.55)},
    {"body": "ceramic"},
    synonyms=("vase", "amphora", "urn", "flower vase", "pitcher", "jug", "ewer"),
    size=(0.1, 1.2),
)
def vase(b: Builder) -> None:
    from scipy.interpolate import PchipInterpolator

    h, belly, neck, lip = b.p["height"], b.p["belly"], b.p["neck"], b.p["lip"]
    at = b.p["belly_at"]
    foot = belly * 0.55
    # a smooth silhouette through foot, belly, neck and lip (monotone cubic: no overshoot past the knots)
    knots = [0.0, at, 0.82, 1.0]
    radii = [foot, belly, neck, lip]
    if b.flag("ornate"):
        knots.insert(2, at + 0.12)
        radii.insert(2, belly * 0.9)
    heights = np.linspace(0.0, 1.0, max(8, b.sections // 2))
    outer = [(float(r), float(t * h)) for r, t in zip(PchipInterpolator(knots, radii)(heights), heights, strict=True)]
    b.lathe("body", "body", vessel_profile(outer, 0.006, 0.012))
    b.lathe("foot", "body", [(foot * 1.08, -0.006), (foot * 1.08, 0.004), (foot * 0.7, 0.004), (0.0, 0.004)])
    if b.flag("ornate"):
        _handle(b, "handle", "body", belly * 0.85, h * 0.5, h * 0.85, belly * 0.5, 0.008)


@factory(
    "bottle",
    "tableware",
    {"height": (0.22, 0.33), "radius": (0.03, 0.045), "shoulder": (0.55, 0.7), "neck": (0.01, 0.016)},
    {"body": "glass:#6f9a6a", "cap": "metal"},
    synonyms=("bottle", "wine bottle", "beer bottle", "flask", "water bottle", "decanter"),
    role_words={"cap": "cap", "cork": "cap", "lid": "cap"},
    size=(0.1, 0.6),
    styles={"wine": {"height": 0.31, "radius": 0.038, "shoulder": 0.62}, "beer": {"height": 0.23, "radius": 0.031}},
)
def bottle(b: Builder) -> None:
    h, r, s, n = b.p["height"], b.p["radius"], b.p["shoulder"], b.p["neck"]
    outer = [
        (r * 0.95, 0.0),
        (r, 0.005),
        (r, h * s),
        (r * 0.6, h * (s + 0.1)),
        (n * 1.2, h * (s + 0.2)),
        (n, h * 0.93),
        (n * 1.15, h * 0.95),
    ]
    b.lathe("body", "body", vessel_profile(outer, 0.003, 0.006))
    b.cylinder("cap", "cap", n * 1.25, h * 0.06, (0, h * 0.94, 0))


MUG_WORDS = {"handle": "body"}


@factory(
    "mug",
    "tableware",
    {"height": (0.085, 0.11), "radius": (0.038, 0.048), "taper": (0.9, 1.05)},
    {"body": "ceramic"},
    synonyms=("mug", "coffee mug", "tankard", "beer mug", "stein"),
    role_words=MUG_WORDS,
    size=(0.06, 0.25),
)
def mug(b: Builder) -> None:
    h, r = b.p["height"], b.p["radius"]
    outer = [(r * b.p["taper"], 0.0), (r * b.p["taper"], 0.004), (r, h)]
    b.lathe("body", "body", vessel_profile(outer, 0.005, 0.008))
    _handle(b, "handle", "body", r - 0.002, h * 0.25, h * 0.8, h * 0.3, 0.0065)


@factory(
    "cup",
    "tableware",
    {"height": (0.06, 0.08), "radius": (0.04, 0.05), "saucer": (0.065, 0.08)},
    {"body": "porcelain", "saucer": "porcelain"},
    synonyms=("cup", "teacup", "tea cup", "coffee cup", "espresso cup", "goblet", "chalice", "glass"),
    role_words={"saucer": "saucer"},
    size=(0.05, 0.25),
    styles={"espresso": {"height": 0.055, "radius": 0.032, "saucer": 0.055}},
)
def cup(b: Builder) -> None:
    h, r, s = b.p["height"], b.p["radius"], b.p["saucer"]
    b.lathe(
        "saucer",
        "saucer",
        [(s * 0.55, 0.0), (s * 0.6, 0.004), (s, 0.012), (s * 0.96, 0.014), (s * 0.55, 0.008), (0.0, 0.008)],
    )
    outer = [(r * 0.45, 0.008), (r * 0.5, 0.012), (r * 0.85, h * 0.35), (r, h)]
    b.lathe("body", "body", vessel_profile(outer, 0.003, 0.014))
    _handle(b, "handle", "body", r * 0.85, h * 0.35, h * 0.85, h * 0.3, 0.0045)


@factory(
    "bowl",
    "tableware",
    {"radius": (0.07, 0.14), "depth": (0.45, 0.7), "foot": (0.35, 0.5)},
    {"body": "ceramic"},
    synonyms=("bowl", "salad bowl", "soup bowl", "basin", "dish"),
    size=(0.1, 0.5),
)
def bowl(b: Builder) -> None:
    r, depth = b.p["radius"], b.p["radius"] * b.p["depth"]
    foot = r * b.p["foot"]
    outer = [(foot, 0.0), (foot, 0.008), (foot * 1.1, 0.012)]
    outer += [
        (foot + (r - foot) * math.sin(t * math.pi / 2), 0.012 + (depth - 0.012) * (1 - math.cos(t * math.pi / 2)))
        for t in np.linspace(0.15, 1.0, 6)
    ]
    b.lathe("body", "body", vessel_profile(outer, 0.005, 0.016))
    b.lathe("foot_ring", "body", [(foot * 1.02, -0.004), (foot * 1.02, 0.002), (foot * 0.8, 0.002), (0.0, 0.002)])


@factory(
    "plate",
    "tableware",
    {"radius": (0.1, 0.15), "rim": (0.18, 0.28), "height": (0.016, 0.026)},
    {"body": "porcelain"},
    synonyms=("plate", "dinner plate", "platter", "saucer", "dish plate"),
    size=(0.12, 0.45),
)
def plate(b: Builder) -> None:
    r, h = b.p["radius"], b.p["height"]
    well = r * (1 - b.p["rim"])
    b.lathe(
        "body",
        "body",
        [
            (0.0, 0.0),
            (well * 0.7, 0.0),
            (well * 0.72, 0.004),
            (well, 0.006),
            (r, h),
            (r - 0.004, h),
            (well, h * 0.55),
            (0.0, h * 0.45),
        ],
    )
    b.lathe("foot_ring", "body", [(well * 0.72, -0.004), (well * 0.72, 0.001), (0.0, 0.001)])


@factory(
    "teapot",
    "tableware",
    {"radius": (0.07, 0.1), "height": (0.11, 0.16), "spout": (0.07, 0.11)},
    {"body": "ceramic", "lid": "ceramic"},
    synonyms=("teapot", "tea pot", "kettle", "coffee pot", "tea kettle"),
    role_words={"lid": "lid", "handle": "body", "spout": "body"},
    size=(0.12, 0.4),
)
def teapot(b: Builder) -> None:
    r, h, spout = b.p["radius"], b.p["height"], b.p["spout"]
    b.lathe("body", "body", [(r * 0.6, 0.0), (r * 0.65, 0.006), (r, h * 0.4), (r * 0.85, h * 0.8), (r * 0.5, h)])
    b.lathe(
        "lid",
        "lid",
        [(r * 0.52, h - 0.002), (r * 0.4, h + 0.015), (0.012, h + 0.02), (0.016, h + 0.035), (0.0, h + 0.038)],
    )
    b.tube(
        "spout",
        "body",
        [
            (r * 0.8, h * 0.3, 0.0),
            (r + spout * 0.4, h * 0.45, 0.0),
            (r + spout * 0.75, h * 0.7, 0.0),
            (r + spout, h * 0.9, 0.0),
        ],
        [0.018, 0.014, 0.011, 0.009],
    )
    _handle(b, "handle", "body", -(r * 0.9), h * 0.25, h * 0.8, -h * 0.3, 0.009)


@factory(
    "jar",
    "tableware",
    {"height": (0.1, 0.22), "radius": (0.045, 0.075), "lid": (0.015, 0.03)},
    {"body": "glass", "lid": "metal"},
    synonyms=("jar", "mason jar", "cookie jar", "canister", "pot", "container", "jam jar"),
    role_words={"lid": "lid", "cap": "lid"},
    size=(0.06, 0.5),
)
def jar(b: Builder) -> None:
    h, r = b.p["height"], b.p["radius"]
    outer = [(r * 0.95, 0.0), (r, 0.006), (r, h * 0.85), (r * 0.85, h * 0.92), (r * 0.85, h)]
    b.lathe("body", "body", vessel_profile(outer, 0.003, 0.006))
    b.cylinder("lid", "lid", r * 0.9, b.p["lid"], (0, h - 0.01, 0))


@factory(
    "bucket",
    "tableware",
    {"height": (0.24, 0.32), "radius": (0.12, 0.16), "taper": (0.7, 0.85)},
    {"body": "metal", "handle": "dark_metal"},
    synonyms=("bucket", "pail", "watering can", "tub"),
    role_words={"handle": "handle"},
    size=(0.15, 0.6),
)
def bucket(b: Builder) -> None:
    h, r = b.p["height"], b.p["radius"]
    outer = [(r * b.p["taper"], 0.0), (r * b.p["taper"], 0.005), (r, h - 0.01), (r + 0.006, h)]
    b.lathe("body", "body", vessel_profile(outer, 0.004, 0.006))
    for y in (h * 0.35, h * 0.7):
        frac = y / h
        b.cylinder("hoop", "body", r * (b.p["taper"] + (1 - b.p["taper"]) * frac) + 0.003, 0.012, (0, y, 0))
    arc = np.linspace(0.0, math.pi, max(8, b.sections // 2))
    b.tube("handle", "handle", [(-(r + 0.004) * math.cos(a), h * 0.9 + r * 0.9 * math.sin(a), 0.0) for a in arc], 0.004)
