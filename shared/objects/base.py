"""The factory contract: a spec (category, seed, parameters, materials) in, a model of named parts out.

A factory is a plain function drawing with a ``Builder``, registered with its parameter ranges, the
material of each of its roles and the words people use for it. Everything random is drawn from
generators seeded by the spec, so a spec rebuilds the same model byte for byte: the images stage
renders it, the reconstruct stage rebuilds it from the stored spec, and neither trusts the other's
pixels. Models come out upright (+Y), in metres, standing on y = 0 and centred on the origin.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import trimesh

from shared.objects import shapes
from shared.objects.materials import Material, material

FAMILIES = ("furniture", "tableware", "nature", "vehicles", "props")
# detail level -> (sections around a turned or swept part, icosphere subdivisions); minimal is for scene props
DETAIL = {"minimal": (6, 0), "low": (8, 1), "standard": (24, 2), "high": (48, 3)}
SPEC_VERSION = 1


@dataclass(frozen=True)
class Factory:
    category: str
    family: str
    build: Callable[[Builder], None]
    params: dict[str, tuple[float, float]]
    """Parameter -> plausible range (metres unless named otherwise); sampled uniformly from the seed."""
    roles: dict[str, str]
    """Role of a part -> default material (``preset`` or ``preset:#colour``); the first is the one a prompt's
    material and colour dress unless they name another role."""
    synonyms: tuple[str, ...] = ()
    role_words: dict[str, str] = field(default_factory=dict)
    """Words that name a role ("shade", "roof"): a colour or material just before one dresses that role."""
    size: tuple[float, float] = (0.1, 2.0)
    """Largest dimension, metres: the sizes this category plausibly comes in."""
    turn: float = 0.0
    """Radians about +Y applied after drawing: furniture is drawn with its back towards +Z, and the
    views' convention (``shared.assets.views``) puts the front towards +Z."""
    styles: dict[str, dict[str, float]] = field(default_factory=dict)
    """Words that name a kind of this object (a synonym or an adjective: "sports", "dagger", "canoe") ->
    the parameters that kind has, replacing the seed's sample."""

    @property
    def main_role(self) -> str:
        return next(iter(self.roles))


REGISTRY: dict[str, Factory] = {}


def factory(
    category: str,
    family: str,
    params: dict[str, tuple[float, float]],
    roles: dict[str, str],
    *,
    synonyms: Sequence[str] = (),
    role_words: dict[str, str] | None = None,
    size: tuple[float, float] = (0.1, 2.0),
    turn: float = 0.0,
    styles: dict[str, dict[str, float]] | None = None,
) -> Callable[[Callable[[Builder], None]], Callable[[Builder], None]]:
    """Register the decorated function as the factory of ``category``."""

    def register(build: Callable[[Builder], None]) -> Callable[[Builder], None]:
        if category in REGISTRY:
            raise ValueError(f"category {category!r} registered twice")
        REGISTRY[category] = Factory(
            category, family, build, params, roles, tuple(synonyms), role_words or {}, size, turn, styles or {}
        )
        return build

    return register


@cache
def catalogue() -> dict[str, Factory]:
    """Every factory, by category: the family modules register theirs when first imported."""
    for family in FAMILIES:
        importlib.import_module(f"shared.objects.{family}")
    return dict(sorted(REGISTRY.items()))


def get_factory(category: str) -> Factory:
    factories = catalogue()
    if category not in factories:
        raise KeyError(f"no factory for {category!r} (known: {', '.join(factories)})")
    return factories[category]


def _stream(seed: int, category: str, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(category.encode()), purpose])


@dataclass
class ObjectSpec:
    """Everything a model is rebuilt from; stored as the job's ``factory_spec.json`` and in its manifest."""

    category: str
    seed: int
    params: dict[str, float]
    materials: dict[str, Material]
    scale: float = 1.0
    stretch: float = 1.0  # vertical only: "tall", "short"
    widen: float = 1.0  # horizontal only: "wide", "narrow"
    flags: tuple[str, ...] = ()  # "round", "ornate"
    detail: str = "standard"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "category": self.category,
            "seed": self.seed,
            "params": self.params,
            "materials": {role: m.to_json() for role, m in self.materials.items()},
            "scale": self.scale,
            "stretch": self.stretch,
            "widen": self.widen,
            "flags": list(self.flags),
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObjectSpec:
        if data.get("version") != SPEC_VERSION:
            raise ValueError(f"factory spec version {data.get('version')!r} is not {SPEC_VERSION}")
        return cls(
            data["category"],
            int(data["seed"]),
            {k: float(v) for k, v in data["params"].items()},
            {role: Material.from_json(m) for role, m in data["materials"].items()},
            float(data["scale"]),
            float(data["stretch"]),
            float(data["widen"]),
            tuple(data["flags"]),
            data["detail"],
        )


def default_spec(category: str, seed: int, detail: str = "standard") -> ObjectSpec:
    """The seed's sample of every parameter, and the category's own materials."""
    made = get_factory(category)
    rng = _stream(seed, category, 0)
    params = {name: round(float(rng.uniform(low, high)), 4) for name, (low, high) in made.params.items()}
    return ObjectSpec(
        category, seed, params, {role: preset_material(value) for role, value in made.roles.items()}, detail=detail
    )


def preset_material(value: str) -> Material:
    """``"wood"`` is the preset; ``"paper:#8e3b46"`` the preset in that colour."""
    preset, _, colour = value.partition(":")
    return material(preset).tinted(colour) if colour else material(preset)


@dataclass
class Part:
    name: str
    role: str
    mesh: trimesh.Trimesh


@dataclass
class Model:
    spec: ObjectSpec
    parts: list[Part]

    @property
    def faces(self) -> int:
        return sum(len(part.mesh.faces) for part in self.parts)

    @property
    def bounds(self) -> np.ndarray:
        return np.stack(
            [
                np.min([p.mesh.bounds[0] for p in self.parts], axis=0),
                np.max([p.mesh.bounds[1] for p in self.parts], axis=0),
            ]
        )

    def to_scene(self) -> trimesh.Scene:
        """One node per part, each with its UVs and its role's PBR material (glass blends, see ``pbr``)."""
        scene = trimesh.Scene()
        for part in self.parts:
            mesh = part.mesh.copy()
            mesh.visual = trimesh.visual.TextureVisuals(
                uv=shapes.cylindrical_uv(mesh), material=pbr(self.spec.materials[part.role], part.role)
            )
            scene.add_geometry(mesh, node_name=part.name, geom_name=part.name)
        return scene


def material_name(role: str, made_of: Material) -> str:
    return f"{role}_{made_of.name}"


def pbr(made_of: Material, role: str) -> trimesh.visual.material.PBRMaterial:
    """The glTF material: linear base colour; a transmissive one is also alpha-blended, for viewers without
    KHR_materials_transmission (which the delivered GLB carries: ``shared.assets.factory``)."""
    from shared.envgen.colors import linear

    alpha = 1.0 - 0.7 * made_of.transmission
    colour = linear(made_of.color)
    return trimesh.visual.material.PBRMaterial(
        name=material_name(role, made_of),
        emissiveFactor=[c * made_of.emission for c in colour] if made_of.emission > 0 else None,
        baseColorFactor=[*colour, alpha],
        metallicFactor=made_of.metallic,
        roughnessFactor=made_of.roughness,
        alphaMode="BLEND" if made_of.transmission > 0 else "OPAQUE",
    )


class Builder:
    """What a factory draws with: its parameters, seeded randomness and the part primitives."""

    def __init__(self, spec: ObjectSpec) -> None:
        self.spec = spec
        self.p = spec.params
        self.rng = _stream(spec.seed, spec.category, 1)
        self.sections, self.subdivisions = DETAIL[spec.detail]
        self.parts: list[Part] = []
        self._names: dict[str, int] = {}

    def flag(self, name: str) -> bool:
        return name in self.spec.flags

    def u(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def add(self, name: str, role: str, mesh: trimesh.Trimesh) -> trimesh.Trimesh:
        """Add a part; repeated names are numbered (``leg_1``, ``leg_2``)."""
        count = self._names.get(name, 0) + 1
        self._names[name] = count
        if count == 2:
            first = next(p for p in self.parts if p.name == name)
            first.name = f"{name}_1"
        self.parts.append(Part(name if count == 1 else f"{name}_{count}", role, mesh))
        return mesh

    def box(self, name: str, role: str, low: Sequence[float], high: Sequence[float]) -> trimesh.Trimesh:
        return self.add(name, role, trimesh.creation.box(bounds=[low, high]))

    def cylinder(
        self,
        name: str,
        role: str,
        radius: float,
        height: float,
        at: Sequence[float] = (0, 0, 0),
        sections: int | None = None,
    ) -> trimesh.Trimesh:
        """A vertical cylinder whose base centre is ``at``."""
        mesh = trimesh.creation.cylinder(radius, height, sections=sections or self.sections)
        mesh.apply_transform(shapes.Z_TO_Y)
        mesh.apply_translation((at[0], at[1] + height / 2, at[2]))
        return self.add(name, role, mesh)

    def rod(
        self,
        name: str,
        role: str,
        start: Sequence[float],
        end: Sequence[float],
        radius: float,
        sections: int | None = None,
    ) -> trimesh.Trimesh:
        """A cylinder from ``start`` to ``end`` (legs that splay, spokes, poles)."""
        mesh = trimesh.creation.cylinder(radius, segment=[start, end], sections=sections or max(6, self.sections // 2))
        return self.add(name, role, mesh)

    def cone(
        self, name: str, role: str, radius: float, height: float, at: Sequence[float] = (0, 0, 0)
    ) -> trimesh.Trimesh:
        mesh = trimesh.creation.cone(radius, height, sections=self.sections)
        mesh.apply_transform(shapes.Z_TO_Y)
        mesh.apply_translation(at)
        return self.add(name, role, mesh)

    def lathe(
        self, name: str, role: str, profile: Sequence[tuple[float, float]], at: Sequence[float] = (0, 0, 0)
    ) -> trimesh.Trimesh:
        mesh = shapes.lathe(profile, self.sections)
        mesh.apply_translation(at)
        return self.add(name, role, mesh)

    def tube(
        self, name: str, role: str, path: Sequence[Sequence[float]], radius: float | Sequence[float]
    ) -> trimesh.Trimesh:
        return self.add(name, role, shapes.tube(path, radius, max(6, self.sections // 2)))

    def prism(
        self,
        name: str,
        role: str,
        outline: Sequence[tuple[float, float]],
        depth: float,
        transform: np.ndarray | None = None,
    ) -> trimesh.Trimesh:
        mesh = shapes.prism(outline, depth)
        if transform is not None:
            mesh.apply_transform(transform)
        return self.add(name, role, mesh)

    def blob(
        self,
        name: str,
        role: str,
        radius: float,
        at: Sequence[float],
        bumps: float = 0.12,
        squash: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> trimesh.Trimesh:
        mesh = shapes.blob(radius, self.subdivisions, self.rng, bumps, squash)
        mesh.apply_translation(at)
        return self.add(name, role, mesh)

    def sphere(
        self,
        name: str,
        role: str,
        radius: float,
        at: Sequence[float],
        squash: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> trimesh.Trimesh:
        return self.blob(name, role, radius, at, 0.0, squash)


def build(spec: ObjectSpec) -> Model:
    """The model a spec describes, scaled as it says, standing on y = 0 and centred on the origin."""
    builder = Builder(spec)
    made = get_factory(spec.category)
    made.build(builder)
    factors = np.array([spec.widen, spec.stretch, spec.widen]) * spec.scale
    for part in builder.parts:
        if made.turn:
            part.mesh.apply_transform(rotation_y(made.turn))
        part.mesh.vertices = part.mesh.vertices * factors  # positive factors: winding stays outward
    model = Model(spec, builder.parts)
    low, high = model.bounds
    offset = np.array([-(low[0] + high[0]) / 2, -low[1], -(low[2] + high[2]) / 2])
    for part in model.parts:
        part.mesh.apply_translation(offset)
    return model


def rotation_y(angle: float) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(angle, (0, 1, 0))


def placed(matrix: np.ndarray, mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    mesh.apply_transform(matrix)
    return mesh
