"""Parametric props, one builder per ScenePlan object kind, in metres at scale 1.

Each builder adds coloured parts to a ``Kit``; a prop stands on y=0 centred on the origin, so the
placer can scale, turn and drop it on the terrain. The kit's random generator varies proportions
and colour, so each variant of a kind differs a little. Kinds that are everyday objects (trees, cars,
furniture, ...) come from the object factories that text_to_3d uses (``FACTORY_KINDS``): one library;
the builders here are the scene-only kinds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import trimesh

from shared.envgen.colors import shade

if TYPE_CHECKING:
    from shared.objects.materials import Material

DARK_METAL, SCREEN = "#2c2f36", "#3fd6ff"
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
        self.detail = detail
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












def cactus(k: Kit) -> None:
    height = k.u(2.0, 3.0)
    k.cyl(0.25, height)
    k.sphere(0.25, y=height)
    for side in (-1, 1)[: int(k.rng.integers(1, 3))]:
        y = k.u(0.8, height - 0.8)
        k.box(min(0, side * 0.65), y, -0.12, max(0, side * 0.65), y + 0.24, 0.12)
        k.cyl(0.14, k.u(0.6, 1.0), x=side * 0.6, y=y)




def building(k: Kit) -> None:
    w, d, floors = k.u(5.2, 6.4), k.u(5.2, 6.4), int(k.rng.integers(3, 7))
    height = floors * 3.0
    k.box(-w / 2, 0, -d / 2, w / 2, height, d / 2)
    for floor in range(floors):
        y = floor * 3.0 + 1.0
        k.box(-w / 2 - 0.04, y, -d / 2 - 0.04, w / 2 + 0.04, y + 1.2, d / 2 + 0.04, "#24344a", "glossy")
    k.box(-w / 2 + 0.4, height, -d / 2 + 0.4, w / 2 - 0.4, height + 0.5, d / 2 - 0.4, shade(k.color, 0.7))






def sign(k: Kit) -> None:
    w, bottom = k.u(1.6, 2.4), k.u(1.4, 2.0)
    for x in (-w / 2 + 0.1, w / 2 - 0.1):
        k.cyl(0.05, bottom, x=x, color=DARK_METAL)
    k.box(-w / 2, bottom, -0.06, w / 2, bottom + k.u(0.8, 1.2), 0.06)






















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


# kinds made by the object factories (shared.objects): kind -> (category, the role the plan's colour and finish
# dress; None: every part of the category's main material)
FACTORY_KINDS: dict[str, tuple[str, str | None]] = {
    "tree": ("deciduous_tree", None), "pine": ("conifer_tree", None), "palm": ("palm_tree", None),
    "bush": ("bush", None), "rock": ("rock", None), "mushroom": ("mushroom", "cap"), "house": ("house", "walls"),
    "lamp_post": ("street_lamp", "pole"), "car": ("car", None), "bench": ("bench", None), "fence": ("fence", None),
    "crate": ("crate", None), "barrel": ("barrel", None), "table": ("dining_table", None), "chair": ("chair", None),
    "shelf": ("bookshelf", "frame"), "sofa": ("sofa", None), "floor_lamp": ("floor_lamp", "shade"),
    "bed": ("bed", "blanket"), "desk": ("desk", None), "cabinet": ("cabinet", None), "stool": ("stool", None),
    "armchair": ("armchair", None), "coffee_table": ("coffee_table", None), "potted_plant": ("potted_plant", "pot"),
    "chest": ("chest", None),
}
ENV_DETAIL = ("minimal", "low")  # Kit detail 0, 1 -> factory detail level


def _finish(made_of: Material) -> str:
    """The scene's finish nearest a PBR material (the env writer's materials are colour + finish)."""
    if made_of.emission > 0:
        return "emissive"
    if made_of.metallic >= 0.5:
        return "metal"
    return "glossy" if made_of.roughness < 0.3 else "matte"


def factory_prop(kind: str, k: Kit) -> None:
    """One variant of ``kind`` from its object factory, seeded by the kit's generator; the plan's colour and
    finish go to the dressed role, every other part keeps its factory material."""
    from shared.objects.base import build, default_spec, get_factory

    category, role = FACTORY_KINDS[kind]
    spec = default_spec(category, int(k.rng.integers(2**31)), ENV_DETAIL[k.detail])
    made = get_factory(category)
    main = made.roles[made.main_role]
    dressed = {role} if role else {r for r, value in made.roles.items() if value == main}
    for part in build(spec).parts:
        if part.role in dressed:
            k.add(part.mesh)
        else:
            made_of = spec.materials[part.role]
            k.add(part.mesh, made_of.color, _finish(made_of))


BUILDERS: dict[str, Callable[[Kit], None]] = {
    "cactus": cactus, "building": building, "sign": sign, "rug": rug, "column": column, "ruin_wall": ruin_wall,
    "stall": stall, "hay_bale": hay_bale, "stalagmite": stalagmite, "crystal": crystal, "console": console,
    "snowman": snowman, "umbrella": umbrella,
    **{kind: functools.partial(factory_prop, kind) for kind in FACTORY_KINDS},
}
# headings a kind may take: cars drive along the street (z), buildings and furniture line up with
# streets and walls; kinds not listed turn freely
TURNS: dict[str, int] = {"car": 2, **dict.fromkeys(
    ("building", "house", "stall", "shelf", "sofa", "bench", "fence", "sign", "console", "table", "bed", "desk",
     "cabinet", "armchair", "coffee_table", "chest"), 4)}


def build_prop(kind: str, rng: np.random.Generator, color: str, finish: str,
               detail: int) -> list[tuple[trimesh.Trimesh, str, str]]:
    """The parts of one variant of ``kind``: ``(mesh, hex colour, finish)``."""
    kit = Kit(rng, color, finish, detail)
    BUILDERS[kind](kit)
    return kit.parts
