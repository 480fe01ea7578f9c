"""ScenePlan -> scene.glb (and a thumbnail): terrain, props, walls, water, lights and a camera.

Deterministic: every random choice comes from generators seeded by the plan's seed (separate
streams for terrain, prop shapes and placement), the GLB writer orders everything explicitly, and
floats are rounded before they are written, so the same plan gives the same bytes.

Props of one plan group share a few mesh variants (glTF instancing); each placed prop is one node
named ``<kind>_<nnn>``. When the file would exceed the byte budget the scene is rebuilt at the
next lower level of ``DETAIL_LADDER`` (coarser terrain, simpler props, fewer variants, then fewer
props), and the info says what was reduced.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import trimesh

from shared.envgen import DEFAULT_GLB_BUDGET_BYTES, THUMBNAIL_SIZE
from shared.envgen.colors import linear, rgb
from shared.envgen.placement import Placement, Placer, yaw_quaternion
from shared.envgen.props import TURNS, build_prop
from shared.envgen.terrain import Terrain, make_terrain
from shared.errors import ProviderError
from shared.geometry.camera import Camera, direction_quaternion
from shared.geometry.glb import GlbWriter, Primitive
from shared.schemas.scene_plan import ObjectGroup, ScenePlan

GENERATOR = "MMF procedural env 1"
CELL_M = 0.75  # terrain grid spacing at full detail
FLAT_CELLS = 16  # a flat ground still gets a few cells, for its colour variation
SINK_M = 0.03  # props sit this far into the ground so no edge floats
WALL_THICKNESS_M = 0.3
CAMERA_CLEARANCE_M = 1.0


@dataclass(frozen=True)
class Detail:
    max_cells: int
    prop_detail: int  # 1 smooth, 0 coarse
    variants: int  # meshes per plan group
    prop_fraction: float

    def describe(self) -> str:
        return (f"terrain <= {self.max_cells} cells, {'coarse' if self.prop_detail == 0 else 'full'} props, "
                f"{self.variants} variant(s) per group, {self.prop_fraction:.0%} of props")


DETAIL_LADDER: tuple[Detail, ...] = (
    Detail(128, 1, 3, 1.0),
    Detail(64, 1, 2, 1.0),
    Detail(32, 0, 1, 1.0),
    Detail(16, 0, 1, 0.5),
    Detail(8, 0, 1, 0.25),
    Detail(4, 0, 1, 0.0),
)
FINISHES = {"matte": (0.0, 0.9), "glossy": (0.0, 0.35), "metal": (0.85, 0.4), "emissive": (0.0, 0.6)}

Progress = Callable[[float, str], None]


def _material(writer: GlbWriter, color: str, finish: str) -> int:
    metallic, roughness = FINISHES[finish]
    base = linear(color)
    return writer.add_material(f"{finish}_{color[1:]}", base, metallic, roughness,
                               emissive=base if finish == "emissive" else (0.0, 0.0, 0.0))


def _quantised(vertices: np.ndarray) -> np.ndarray:
    """float32 positions on a 0.1 mm grid, so last-bit float noise cannot change the file."""
    return np.round(np.asarray(vertices, dtype=float), 4).astype(np.float32)


@dataclass
class Variant:
    """One prop shape, written to the GLB only when a placed prop uses it (no unused meshes)."""

    name: str
    parts: list[tuple[str, str, np.ndarray, np.ndarray]]  # colour, finish, positions, faces
    bounds: np.ndarray
    triangles: int
    mesh: int | None = None

    def mesh_index(self, writer: GlbWriter) -> int:
        if self.mesh is None:
            primitives = [Primitive(positions, faces, _material(writer, color, finish))
                          for color, finish, positions, faces in self.parts]
            self.mesh = writer.add_mesh(self.name, primitives)
        return self.mesh


def _variant(name: str, parts: list) -> Variant:
    """Merge a prop's parts into one primitive per (colour, finish)."""
    grouped: dict[tuple[str, str], list] = {}
    for mesh, color, finish in parts:
        grouped.setdefault((color, finish), []).append(mesh)
    merged = []
    for (color, finish), meshes in grouped.items():
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes])[:-1]
        positions = _quantised(np.concatenate([m.vertices for m in meshes]))
        faces = np.concatenate([m.faces + offset for m, offset in zip(meshes, offsets, strict=True)])
        merged.append((color, finish, positions, faces))
    every = np.concatenate([positions for _, _, positions, _ in merged]).astype(float)
    return Variant(name, merged, np.stack([every.min(0), every.max(0)]), sum(len(m[3]) for m in merged))


def _region(group: ObjectGroup) -> tuple[float, float, float, float]:
    r = group.region
    return (r.x_min, r.z_min, r.x_max, r.z_max)


def _ground_nodes(writer: GlbWriter, plan: ScenePlan, terrain: Terrain, placer: Placer) -> int:
    """Terrain, water and walls; blocks water and walls for props. Returns the triangle count."""
    ground = plan.ground
    positions, faces, normals, colors = terrain.mesh_arrays()
    floor = _material(writer, ground.color, "matte")
    mesh = writer.add_mesh("ground", [Primitive(_quantised(positions), faces, floor, normals, colors)])
    writer.add_node("ground", mesh=mesh)
    triangles = len(faces)
    if ground.water is not None:
        r = ground.water.region
        quad = np.array([[r.x_min, 0, r.z_min], [r.x_min, 0, r.z_max], [r.x_max, 0, r.z_min], [r.x_max, 0, r.z_max]])
        water = _material(writer, ground.water.color, "glossy")
        normals_up = np.tile([0.0, 1.0, 0.0], (4, 1))
        mesh = writer.add_mesh("water", [Primitive(_quantised(quad), np.array([[0, 1, 2], [2, 1, 3]]), water,
                                                   normals_up)])
        writer.add_node("water", mesh=mesh)
        placer.block((r.x_min, r.z_min, r.x_max, r.z_max))
        triangles += 2
    if ground.walls is not None:
        half_w, half_d, t = ground.width / 2, ground.depth / 2, WALL_THICKNESS_M
        bottom = float(terrain.heights.min()) - 0.5
        unit = trimesh.creation.box(bounds=[[-0.5, 0.0, -0.5], [0.5, 1.0, 0.5]])
        mesh = writer.add_mesh("wall", [Primitive(_quantised(unit.vertices), unit.faces,
                                                  _material(writer, ground.walls.color, "matte"))])
        height = ground.walls.height - bottom
        for name, (x0, z0, x1, z1) in (("wall_north", (-half_w, -half_d, half_w, -half_d + t)),
                                       ("wall_south", (-half_w, half_d - t, half_w, half_d)),
                                       ("wall_west", (-half_w, -half_d, -half_w + t, half_d)),
                                       ("wall_east", (half_w - t, -half_d, half_w, half_d))):
            writer.add_node(name, mesh=mesh, translation=((x0 + x1) / 2, bottom, (z0 + z1) / 2),
                            scale=(x1 - x0, height, z1 - z0))
            placer.block((x0, z0, x1, z1))
            triangles += 12
    return triangles


def _camera(plan: ScenePlan, terrain: Terrain) -> Camera:
    """The plan's camera, lifted if the terrain would bury it."""
    x, y, z = plan.camera.position
    floor = float(terrain.height_at(np.array(x), np.array(z))) + CAMERA_CLEARANCE_M
    return Camera((x, max(y, floor), z), plan.camera.target, plan.camera.fov_deg)


def _lights(writer: GlbWriter, plan: ScenePlan, top: float) -> None:
    for index, light in enumerate(plan.lights):
        spot = math.radians(light.spot_angle_deg) if light.type == "spot" else None
        ref = writer.add_light(f"light_{index:03d}", light.type, linear(light.color), light.intensity, spot)
        rotation = direction_quaternion(light.direction) if light.direction is not None else None
        position = light.position if light.position is not None else (0.0, top, 0.0)
        writer.add_node(f"light_{index:03d}", light=ref, translation=position, rotation=rotation)


def _build(plan: ScenePlan, detail: Detail) -> tuple[bytes, dict[str, Any]]:
    ground = plan.ground
    flat = ground.relief == 0 and ground.water is None
    wanted = FLAT_CELLS if flat else math.ceil(max(ground.width, ground.depth) / CELL_M)
    cells = max(1, min(detail.max_cells, wanted))
    terrain = make_terrain(ground, plan.seed, cells)
    writer = GlbWriter(GENERATOR, extras={"setting": plan.setting, "seed": plan.seed, "prompt": plan.prompt})
    writer.scene_extras = {"sky": {"zenith": plan.sky.zenith, "horizon": plan.sky.horizon},
                           "fog_density": plan.sky.fog_density}
    placer = Placer()
    triangles = _ground_nodes(writer, plan, terrain, placer)
    camera = _camera(plan, terrain)
    cx, _, cz = camera.position
    placer.block((cx - 1.0, cz - 1.0, cx + 1.0, cz + 1.0))

    variants: list[list[Variant]] = []
    for gi, group in enumerate(plan.objects):
        shapes = np.random.default_rng([plan.seed, 3, gi])
        variants.append([_variant(f"{group.kind}_g{gi}_v{v}",
                                  build_prop(group.kind, shapes, group.color, group.finish, detail.prop_detail))
                         for v in range(detail.variants)])

    # largest props first, so big footprints are not crowded out by small ones
    def footprint_area(gi: int) -> float:
        (x0, _, z0), (x1, _, z1) = variants[gi][0].bounds
        return -(x1 - x0) * (z1 - z0) * plan.objects[gi].scale[1] ** 2

    scatter = np.random.default_rng([plan.seed, 2])
    placed: dict[int, list[Placement]] = {}
    for gi in sorted(range(len(plan.objects)), key=footprint_area):
        group = plan.objects[gi]
        bounds = [variant.bounds for variant in variants[gi]]
        spots = (placer.place(scatter, _region(group), bounds, group.scale, TURNS.get(group.kind, 0))
                 for _ in range(math.floor(group.count * detail.prop_fraction)))
        placed[gi] = [spot for spot in spots if spot is not None]

    numbers: Counter[str] = Counter()
    props = []
    for gi, group in enumerate(plan.objects):
        for spot in placed[gi]:
            name = f"{group.kind}_{numbers[group.kind]:03d}"
            numbers[group.kind] += 1
            variant = variants[gi][spot.variant]
            x0, z0, x1, z1 = spot.box
            xs, zs = np.meshgrid(np.linspace(x0, x1, 3), np.linspace(z0, z1, 3))
            y = float(terrain.height_at(xs, zs).min()) - SINK_M
            writer.add_node(name, mesh=variant.mesh_index(writer), translation=(spot.x, y, spot.z),
                            rotation=yaw_quaternion(spot.yaw), scale=(spot.scale,) * 3)
            props.append({"name": name, "kind": group.kind, "group": gi, "box": [round(float(v), 4) for v in spot.box]})
            triangles += variant.triangles

    top = float(terrain.heights.max()) + 10.0
    _lights(writer, plan, top)
    far = 2.0 * math.hypot(ground.width, ground.depth) + 100.0
    camera_ref = writer.add_camera("camera", math.radians(camera.fov_deg), 0.1, far)
    writer.add_node("camera", camera=camera_ref, translation=camera.position, rotation=camera.quaternion())

    glb = writer.to_bytes()
    requested: Counter[str] = Counter()
    for group in plan.objects:
        requested[group.kind] += group.count
    info = {
        "setting": plan.setting, "seed": plan.seed, "terrain_cells": cells, "triangles": triangles,
        "glb_bytes": len(glb), "requested": dict(requested), "placed": dict(numbers), "props": props,
        "camera": {"position": list(camera.position), "target": list(camera.target), "fov_deg": camera.fov_deg},
    }
    return glb, info


def build_scene(plan: ScenePlan, budget_bytes: int = DEFAULT_GLB_BUDGET_BYTES,
                progress: Progress | None = None) -> tuple[bytes, dict[str, Any]]:
    """GLB bytes of the scene ``plan`` describes, within ``budget_bytes``, and what was built.

    Raises ``ProviderError`` when even the lowest detail level does not fit the budget.
    """
    size = 0
    for level, detail in enumerate(DETAIL_LADDER):
        glb, info = _build(plan, detail)
        size = len(glb)
        if size <= budget_bytes:
            info["detail_level"] = level
            info["reductions"] = [] if level == 0 else [f"over the {budget_bytes}-byte budget: {detail.describe()}"]
            return glb, info
        if progress is not None:
            progress((level + 1) / len(DETAIL_LADDER), f"scene is {size} bytes, over {budget_bytes}: reducing detail")
    raise ProviderError(f"scene.glb is still {size} bytes at the lowest detail level, "
                        f"over the budget of {budget_bytes} bytes")


def render_thumbnail(plan: ScenePlan, glb: bytes, camera: Camera, size: tuple[int, int] = THUMBNAIL_SIZE) -> bytes:
    """PNG of the scene from its camera, under its sky, sun, lamps and fog."""
    from shared.geometry.render import DirectionalLight, Lighting, PointLight, render_mesh_thumbnail

    exposure = 1 / 3.0  # a clear midday sun (3 lux on the plans' scale) renders at about full brightness
    suns = tuple(DirectionalLight(light.direction, linear(light.color), light.intensity * exposure)
                 for light in plan.lights if light.type == "directional" and light.direction is not None)
    points = tuple(PointLight(light.position, linear(light.color), light.intensity * exposure)
                   for light in plan.lights if light.type != "directional" and light.position is not None)
    horizon = linear(plan.sky.horizon)
    ambient = tuple(0.15 + 0.45 * c for c in linear(plan.sky.zenith))
    lighting = Lighting(directional=suns, points=points, ambient=ambient, fog_color=horizon,
                        fog_density=plan.sky.fog_density)
    return render_mesh_thumbnail(glb, size[0], size[1], camera, lighting=lighting,
                                 background=(rgb(plan.sky.zenith), rgb(plan.sky.horizon)))



def put_scene(ctx: Any, plan: ScenePlan, glb: bytes, info: dict[str, Any], summary: str, at: float) -> None:
    """Store ``scene.glb`` and its thumbnail (seen from the scene's own camera), reporting the summary
    (with any detail reductions ``build_scene`` made) at ``at`` and the thumbnail at 0.95."""
    if info["reductions"]:
        summary += "; " + "; ".join(info["reductions"])
    ctx.report(at, summary)
    ctx.put_artifact("scene.glb", glb, "model/gltf-binary")
    camera = info["camera"]
    thumbnail = render_thumbnail(plan, glb, Camera(tuple(camera["position"]), tuple(camera["target"]),
                                                   camera["fov_deg"]))
    ctx.report(0.95, "thumbnail rendered")
    ctx.put_artifact("thumbnail.png", thumbnail, "image/png")
