"""Parametric props, one builder per ScenePlan object kind, in metres at scale 1.

Each builder adds coloured parts to a ``Kit``; a prop stands on y=0 centred on the origin, so the
placer can scale, turn and drop it on the terrain. The kit's random generator varies proportions
and colour, so each variant of a kind differs a little.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import trimesh

from shared.envgen.colors import shade

TRUNK, DARK_METAL, WARM_LIGHT, SCREEN = "#5b3b22", "#2c2f36", "#ffd27a", "#3fd6ff"
_UP = trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0))  # +z -> +y
_SIDE = trimesh.transformations.rotation_matrix(math.pi / 2, (0, 1, 0))  # +z -> +x


def _moved(mesh: trimesh.Trimesh, matrix: np.ndarray) -> trimesh.Trimesh:
    mesh.apply_transform(matrix)
    return mesh


class Kit:
    """Collects ``(mesh, colour, finish)`` parts; parts without a colour take the group's."""

    def __init__(self, rng: np.random.Generator, color: str, finish: str, detail: int) -> None:
        self.rng = rng
        self.color = shade(color, float(rng.uniform(0.9, 1.1)))
        self.finish = finish
        self.sections = 10 if detail else 6
        self.subdivisions = 1 if detail else 0
        self.parts: list[tuple[trimesh.Trimesh, str, str]] = []

    def u(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def add(self, mesh: trimesh.Trimesh, color: str | None = None, finish: str | None = None) -> None:
        own = color is None
        self.parts.append((mesh, self.color if own else color, finish or (self.finish if own else "matte")))

    def box(self, x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, color: str | None = None,
            finish: str | None = None) -> None:
        self.add(trimesh.creation.box(bounds=[[x0, y0, z0], [x1, y1, z1]]), color, finish)

    def cyl(self, r: float, h: float, x: float = 0.0, y: float = 0.0, z: float = 0.0, color: str | None = None,
            finish: str | None = None, sections: int | None = None) -> None:
        """A vertical cylinder standing on ``y``."""
        mesh = trimesh.creation.cylinder(r, h, sections=sections or self.sections)
        self.add(_moved(mesh, trimesh.transformations.translation_matrix((x, y + h / 2, z)) @ _UP), color, finish)

    def cone(self, r: float, h: float, x: float = 0.0, y: float = 0.0, z: float = 0.0, color: str | None = None,
             finish: str | None = None) -> None:
        mesh = trimesh.creation.cone(r, h, sections=self.sections)
        self.add(_moved(mesh, trimesh.transformations.translation_matrix((x, y, z)) @ _UP), color, finish)

    def sphere(self, r: float, x: float = 0.0, y: float = 0.0, z: float = 0.0, squash: float = 1.0,
               bumps: float = 0.0, color: str | None = None, finish: str | None = None) -> None:
        mesh = trimesh.creation.icosphere(self.subdivisions, r)
        vertices = mesh.vertices * (1 + self.rng.uniform(-bumps, bumps, (len(mesh.vertices), 1)))
        vertices[:, 1] *= squash
        self.add(trimesh.Trimesh(vertices + np.array([x, y, z]), mesh.faces, process=False), color, finish)


def tree(k: Kit) -> None:
    height = k.u(1.8, 2.6)
    k.cyl(k.u(0.18, 0.25), height + 0.6, color=TRUNK)
    r = k.u(1.3, 1.8)
    k.sphere(r, y=height + r * 0.7, squash=0.85, bumps=0.12)
    k.sphere(r * 0.7, x=k.u(-0.5, 0.5), y=height + r * 1.45, z=k.u(-0.5, 0.5), bumps=0.12)


def pine(k: Kit) -> None:
    k.cyl(0.16, 1.4, color=TRUNK)
    r, y = k.u(1.5, 1.9), 0.9
    for _ in range(3):
        k.cone(r, r * 1.6, y=y)
        y, r = y + r * 0.9, r * 0.72


def palm(k: Kit) -> None:
    lean, height, segments = k.u(0.6, 1.4), k.u(4.8, 5.8), 5
    points = [(lean * (i / segments) ** 2, height * i / segments, 0.0) for i in range(segments + 1)]
    for i in range(segments):
        k.add(trimesh.creation.cylinder(0.2 - 0.02 * i, segment=[points[i], points[i + 1]], sections=k.sections),
              "#8a6e4b")
    tip = points[-1]
    for i in range(6):
        leaf = trimesh.creation.box(bounds=[[0.0, -0.03, -0.28], [2.4, 0.03, 0.28]])
        tilt = trimesh.transformations.rotation_matrix(-0.45, (0, 0, 1))
        turn = trimesh.transformations.rotation_matrix(i * math.pi / 3 + k.u(-0.2, 0.2), (0, 1, 0))
        k.add(_moved(leaf, trimesh.transformations.translation_matrix(tip) @ turn @ tilt))


def bush(k: Kit) -> None:
    for _ in range(int(k.rng.integers(2, 4))):
        r = k.u(0.45, 0.75)
        k.sphere(r, x=k.u(-0.4, 0.4), y=r * 0.6, z=k.u(-0.4, 0.4), squash=0.75, bumps=0.15)


def rock(k: Kit) -> None:
    r = k.u(0.6, 1.0)
    k.sphere(r, y=r * 0.35, squash=k.u(0.5, 0.75), bumps=0.25)


def cactus(k: Kit) -> None:
    height = k.u(2.0, 3.0)
    k.cyl(0.25, height)
    k.sphere(0.25, y=height)
    for side in (-1, 1)[: int(k.rng.integers(1, 3))]:
        y = k.u(0.8, height - 0.8)
        k.box(min(0, side * 0.65), y, -0.12, max(0, side * 0.65), y + 0.24, 0.12)
        k.cyl(0.14, k.u(0.6, 1.0), x=side * 0.6, y=y)


def mushroom(k: Kit) -> None:
    stem = k.u(0.3, 0.45)
    k.cyl(0.08, stem, color="#efe6d2")
    k.sphere(k.u(0.25, 0.35), y=stem, squash=0.55)


def building(k: Kit) -> None:
    w, d, floors = k.u(5.2, 6.4), k.u(5.2, 6.4), int(k.rng.integers(3, 7))
    height = floors * 3.0
    k.box(-w / 2, 0, -d / 2, w / 2, height, d / 2)
    for floor in range(floors):
        y = floor * 3.0 + 1.0
        k.box(-w / 2 - 0.04, y, -d / 2 - 0.04, w / 2 + 0.04, y + 1.2, d / 2 + 0.04, "#24344a", "glossy")
    k.box(-w / 2 + 0.4, height, -d / 2 + 0.4, w / 2 - 0.4, height + 0.5, d / 2 - 0.4, shade(k.color, 0.7))


def house(k: Kit) -> None:
    w, d, h = k.u(5.5, 7.0), k.u(4.5, 5.5), k.u(2.8, 3.4)
    k.box(-w / 2, 0, -d / 2, w / 2, h, d / 2)
    k.box(-0.5, 0, d / 2, 0.5, 2.0, d / 2 + 0.06, "#3a2a20")
    ridge = h + d * 0.45
    vertices = [(-w / 2 - 0.3, h, -d / 2 - 0.3), (-w / 2 - 0.3, h, d / 2 + 0.3), (-w / 2 - 0.3, ridge, 0),
                (w / 2 + 0.3, h, -d / 2 - 0.3), (w / 2 + 0.3, h, d / 2 + 0.3), (w / 2 + 0.3, ridge, 0)]
    faces = [(0, 1, 2), (3, 5, 4), (0, 2, 5), (0, 5, 3), (1, 4, 5), (1, 5, 2), (0, 3, 4), (0, 4, 1)]
    k.add(trimesh.Trimesh(vertices, faces, process=False), "#5a3a2a")


def lamp_post(k: Kit) -> None:
    height = k.u(3.8, 4.4)
    k.cyl(0.08, height)
    k.box(-0.05, height - 0.1, -0.05, 0.7, height, 0.05)
    k.box(0.45, height - 0.35, -0.18, 0.8, height - 0.1, 0.18, WARM_LIGHT, "emissive")


def sign(k: Kit) -> None:
    w, bottom = k.u(1.6, 2.4), k.u(1.4, 2.0)
    for x in (-w / 2 + 0.1, w / 2 - 0.1):
        k.cyl(0.05, bottom, x=x, color=DARK_METAL)
    k.box(-w / 2, bottom, -0.06, w / 2, bottom + k.u(0.8, 1.2), 0.06)


def car(k: Kit) -> None:
    length = k.u(3.9, 4.5)
    k.box(-0.9, 0.3, -length / 2, 0.9, 1.0, length / 2)
    k.box(-0.8, 1.0, -length / 4, 0.8, 1.6, length / 5, "#1f2a36", "glossy")
    for x in (-0.85, 0.85):
        for z in (-length / 3, length / 3):
            wheel = trimesh.creation.cylinder(0.35, 0.25, sections=k.sections)
            k.add(_moved(wheel, trimesh.transformations.translation_matrix((x, 0.35, z)) @ _SIDE), "#151515")


def bench(k: Kit) -> None:
    w = k.u(1.4, 1.8)
    k.box(-w / 2, 0.42, -0.22, w / 2, 0.5, 0.22)
    k.box(-w / 2, 0.55, 0.16, w / 2, 0.95, 0.22)
    for x in (-w / 2 + 0.1, w / 2 - 0.16):
        k.box(x, 0, -0.2, x + 0.06, 0.42, 0.2, DARK_METAL, "metal")


def fence(k: Kit) -> None:
    length = k.u(2.6, 3.2)
    for x in (-length / 2, length / 2 - 0.12):
        k.box(x, 0, -0.06, x + 0.12, 1.1, 0.06)
    for y in (0.4, 0.85):
        k.box(-length / 2, y, -0.03, length / 2, y + 0.1, 0.03)


def crate(k: Kit) -> None:
    s = k.u(0.85, 1.1)
    k.box(-s / 2, 0, -s / 2, s / 2, s, s / 2)
    for y in (0.1 * s, 0.8 * s):
        k.box(-s / 2 - 0.02, y, -s / 2 - 0.02, s / 2 + 0.02, y + 0.1 * s, s / 2 + 0.02, shade(k.color, 0.7))


def barrel(k: Kit) -> None:
    h = k.u(0.9, 1.0)
    k.cyl(0.35, h)
    for y in (0.15, h - 0.2):
        k.cyl(0.365, 0.05, y=y, color=shade(k.color, 0.6))


def table(k: Kit) -> None:
    w, d = k.u(1.2, 1.6), k.u(0.7, 0.9)
    k.box(-w / 2, 0.7, -d / 2, w / 2, 0.76, d / 2)
    for x in (-w / 2 + 0.05, w / 2 - 0.11):
        for z in (-d / 2 + 0.05, d / 2 - 0.11):
            k.box(x, 0, z, x + 0.06, 0.7, z + 0.06)


def chair(k: Kit) -> None:
    k.box(-0.23, 0.42, -0.23, 0.23, 0.47, 0.23)
    k.box(-0.23, 0.47, 0.18, 0.23, 0.95, 0.23)
    for x in (-0.22, 0.17):
        for z in (-0.22, 0.17):
            k.box(x, 0, z, x + 0.05, 0.42, z + 0.05)


def shelf(k: Kit) -> None:
    w, h = k.u(0.9, 1.3), k.u(1.6, 2.0)
    for x in (-w / 2, w / 2 - 0.04):
        k.box(x, 0, -0.18, x + 0.04, h, 0.18)
    books = ("#8e3b46", "#2f5d8a", "#d9a441", "#3d7a4f", "#e8e0cf")
    for y in np.linspace(0.05, h - 0.03, 4):
        k.box(-w / 2 + 0.04, y, -0.18, w / 2 - 0.04, y + 0.03, 0.18)
        if y < h - 0.4:
            x = -w / 2 + 0.08
            while x < w / 2 - 0.2:
                width = k.u(0.05, 0.12)
                k.box(x, y + 0.03, -0.12, x + width, y + k.u(0.2, 0.3), 0.12, books[int(k.rng.integers(5))])
                x += width + 0.01


def sofa(k: Kit) -> None:
    w = k.u(1.8, 2.2)
    k.box(-w / 2, 0, -0.42, w / 2, 0.45, 0.42)
    k.box(-w / 2, 0.45, 0.22, w / 2, 0.9, 0.42)
    for x in (-w / 2, w / 2 - 0.2):
        k.box(x, 0.45, -0.42, x + 0.2, 0.65, 0.22)


def floor_lamp(k: Kit) -> None:
    k.cyl(0.18, 0.04, color=DARK_METAL, finish="metal")
    k.cyl(0.025, 1.5, y=0.04, color=DARK_METAL, finish="metal")
    k.cyl(0.22, 0.3, y=1.45)


def rug(k: Kit) -> None:
    w, d = k.u(2.0, 2.6), k.u(1.4, 1.8)
    k.box(-w / 2, 0, -d / 2, w / 2, 0.02, d / 2)
    k.box(-w / 2 + 0.15, 0.02, -d / 2 + 0.15, w / 2 - 0.15, 0.025, d / 2 - 0.15, shade(k.color, 1.3))


def column(k: Kit) -> None:
    shaft = k.u(1.5, 4.5)
    k.box(-0.45, 0, -0.45, 0.45, 0.25, 0.45)
    k.cyl(0.32, shaft, y=0.25)
    if shaft > 3.0:
        k.box(-0.42, 0.25 + shaft, -0.42, 0.42, 0.45 + shaft, 0.42)


def ruin_wall(k: Kit) -> None:
    x = -2.0
    while x < 2.0:
        width = k.u(0.5, 0.9)
        k.box(x, 0, -0.3, min(x + width, 2.0), k.u(0.6, 2.6), 0.3, shade(k.color, k.u(0.85, 1.1)))
        x += width


def stall(k: Kit) -> None:
    k.box(-1.0, 0, -0.5, 1.0, 0.9, 0.5, "#7a5533")
    for x in (-1.05, 0.95):
        for z in (-0.55, 0.45):
            k.box(x, 0, z, x + 0.1, 2.2, z + 0.1, "#6b4a2f")
    for i in range(4):
        k.box(-1.15 + i * 0.6, 2.2, -0.75, -0.55 + i * 0.6, 2.3, 0.75, k.color if i % 2 == 0 else "#f2efe6")
    goods = ("#e74c3c", "#f1c40f", "#27ae60", "#e67e22")
    for i in range(5):
        k.sphere(0.12, x=-0.8 + i * 0.4, y=1.0, z=k.u(-0.2, 0.2), color=goods[i % 4])


def hay_bale(k: Kit) -> None:
    r, length = k.u(0.55, 0.65), k.u(1.1, 1.3)
    bale = trimesh.creation.cylinder(r, length, sections=k.sections + 2)
    k.add(_moved(bale, trimesh.transformations.translation_matrix((0, r, 0)) @ _SIDE))


def stalagmite(k: Kit) -> None:
    k.cone(k.u(0.4, 0.7), k.u(1.5, 3.5))
    k.cone(k.u(0.2, 0.35), k.u(0.8, 1.6), x=k.u(0.3, 0.5), z=k.u(-0.3, 0.3), color=shade(k.color, 0.85))


def crystal(k: Kit) -> None:
    for _ in range(int(k.rng.integers(3, 6))):
        r, h = k.u(0.08, 0.18), k.u(0.5, 1.3)
        shard = trimesh.creation.cone(r, h, sections=5)
        tilt = trimesh.transformations.rotation_matrix(k.u(-0.5, 0.5), (1, 0, k.u(-1, 1)))
        k.add(_moved(shard, trimesh.transformations.translation_matrix((k.u(-0.2, 0.2), 0, k.u(-0.2, 0.2)))
                     @ tilt @ _UP))


def console(k: Kit) -> None:
    w = k.u(1.0, 1.4)
    k.box(-w / 2, 0, -0.3, w / 2, 0.9, 0.3)
    panel = trimesh.creation.box(bounds=[[-w / 2 + 0.08, 0.0, -0.25], [w / 2 - 0.08, 0.03, 0.2]])
    tilt = trimesh.transformations.rotation_matrix(0.45, (1, 0, 0))
    k.add(_moved(panel, trimesh.transformations.translation_matrix((0, 0.92, 0)) @ tilt), SCREEN, "emissive")


def snowman(k: Kit) -> None:
    y = 0.0
    for r in (0.5, 0.36, 0.26):
        k.sphere(r, y=y + r * 0.9)
        y += r * 1.7
    k.cone(0.05, 0.3, y=y - 0.2, z=0.2, color="#e67e22")
    k.cyl(0.2, 0.3, y=y + 0.1, color="#1b1b1b")


def umbrella(k: Kit) -> None:
    k.cyl(0.03, 2.2, color="#d8d8d8", finish="metal")
    k.cone(k.u(1.1, 1.4), 0.5, y=1.9)


BUILDERS: dict[str, Callable[[Kit], None]] = {
    "tree": tree, "pine": pine, "palm": palm, "bush": bush, "rock": rock, "cactus": cactus, "mushroom": mushroom,
    "building": building, "house": house, "lamp_post": lamp_post, "sign": sign, "car": car, "bench": bench,
    "fence": fence, "crate": crate, "barrel": barrel, "table": table, "chair": chair, "shelf": shelf, "sofa": sofa,
    "floor_lamp": floor_lamp, "rug": rug, "column": column, "ruin_wall": ruin_wall, "stall": stall,
    "hay_bale": hay_bale, "stalagmite": stalagmite, "crystal": crystal, "console": console, "snowman": snowman,
    "umbrella": umbrella,
}
# headings a kind may take: cars drive along the street (z), buildings and furniture line up with
# streets and walls; kinds not listed turn freely
TURNS: dict[str, int] = {"car": 2, **dict.fromkeys(
    ("building", "house", "stall", "shelf", "sofa", "bench", "fence", "sign", "console", "table"), 4)}


def build_prop(kind: str, rng: np.random.Generator, color: str, finish: str,
               detail: int) -> list[tuple[trimesh.Trimesh, str, str]]:
    """The parts of one variant of ``kind``: ``(mesh, hex colour, finish)``."""
    kit = Kit(rng, color, finish, detail)
    BUILDERS[kind](kit)
    return kit.parts
