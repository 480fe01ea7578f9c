"""Hero props: the plan's most prominent objects, pictured by a diffusion model, meshed, set into the scene.

The procedural scene is built first, as the ``procedural`` provider builds it, then each hero is
appended to that GLB as a node ``hero_<nnn>``: placed with the same ``Placer`` on a spot that no
prop, wall, water or the camera's spot takes, standing on the terrain, turned to face the camera
(the picture shows its front), sized like the kind's procedural prop and scaled within its group's
scale range. Hero meshes are counted against the GLB budget before the scene is built, so the
scene's detail is reduced to leave room for them.

Everything is seeded by the plan's seed: the same plan gives the same pictures (on one device) and
the same scene.glb.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import trimesh

from shared.envgen.colors import rgb
from shared.envgen.image_mesh import HeroMesh, silhouette_mesh
from shared.envgen.placement import Placer, yaw_quaternion
from shared.envgen.procedural import SINK_M, build_scene, put_scene
from shared.envgen.props import build_prop
from shared.envgen.terrain import make_terrain
from shared.errors import ProviderError
from shared.geometry.glb import LIGHTS_EXT, GlbWriter, Primitive
from shared.models.diffusion import generate_image, hot_pipeline
from shared.models.runtime import optional_triposr_folder
from shared.models.triposr import triposr_mesh
from shared.schemas.scene_plan import ObjectGroup, ScenePlan

if TYPE_CHECKING:
    from PIL import Image

    from shared.pipeline.context import StageContext

GENERATOR = "MMF sdxl_triposr env 1"
HERO_STYLE = "isolated object on plain white background, studio lighting, centered, whole object in view"
FINISH_WORDS = {"matte": "matte", "glossy": "glossy", "metal": "metallic", "emissive": "glowing"}
COLOR_NAMES = {
    "#1a1a1a": "black", "#f2f2f2": "white", "#808080": "grey", "#c0392b": "red", "#e67e22": "orange",
    "#f1c40f": "yellow", "#27ae60": "green", "#1e5631": "dark green", "#2e86c1": "blue", "#1b2a49": "navy blue",
    "#8e44ad": "purple", "#e91e63": "pink", "#7b4a2d": "brown", "#d8c3a5": "beige",
}
CAMERA_SPOT_M = 1.0  # half-width of the square around the camera that stays free, as in the procedural scene
_WRITER_PROPERTIES = {"asset", "extensionsUsed", "extensions", "scene", "scenes", "nodes", "meshes", "materials",
                      "cameras", "accessors", "bufferViews", "buffers"}


@dataclass(frozen=True)
class Hero:
    """One hero prop to make: its node name, plan group, prompt, image seed and size at scale 1 (metres)."""

    name: str
    group: int
    kind: str
    prompt: str
    seed: int
    size_m: float


def color_name(hex_color: str) -> str:
    """The nearest plain colour word: diffusion models follow words far better than hex codes."""
    target = np.array(rgb(hex_color))
    return min(COLOR_NAMES.items(), key=lambda item: float(np.sum((np.array(rgb(item[0])) - target) ** 2)))[1]


def hero_prompt(plan: ScenePlan, group: ObjectGroup) -> str:
    """One object, whole, on plain white: the picture the meshers can cut out, in the plan's colour and setting."""
    kind = group.kind.replace("_", " ")
    setting = plan.setting.replace("_", " ")
    return (f"a single {color_name(group.color)} {kind} with a {FINISH_WORDS[group.finish]} finish, "
            f"for a {setting} scene, {HERO_STYLE}")


def _reference_bounds(plan: ScenePlan, index: int) -> np.ndarray:
    """Bounds of the group's procedural prop at scale 1 (its first variant, from the procedural seed stream)."""
    group = plan.objects[index]
    parts = build_prop(group.kind, np.random.default_rng([plan.seed, 3, index]), group.color, group.finish, 1)
    every = np.concatenate([mesh.vertices for mesh, _, _ in parts])
    return np.stack([every.min(axis=0), every.max(axis=0)])


def choose_heroes(plan: ScenePlan, count: int) -> list[Hero]:
    """``count`` heroes, from the biggest object groups first (what a viewer notices), one per group
    while groups last, then round again; none when the plan has no objects."""
    if not plan.objects:
        return []
    bounds = [_reference_bounds(plan, index) for index in range(len(plan.objects))]

    def prominence(index: int) -> tuple[float, int, int]:
        volume = float(np.prod(bounds[index][1] - bounds[index][0])) * plan.objects[index].scale[1] ** 3
        return (-volume, -plan.objects[index].count, index)

    order = sorted(range(len(plan.objects)), key=prominence)
    heroes = []
    for number in range(count):
        index = order[number % len(order)]
        seed = int(np.random.SeedSequence([plan.seed, 7, number]).generate_state(1)[0])
        size = float(np.max(bounds[index][1] - bounds[index][0]))
        heroes.append(Hero(f"hero_{number:03d}", index, plan.objects[index].kind,
                           hero_prompt(plan, plan.objects[index]), seed, size))
    return heroes


def fit_size(mesh: HeroMesh, size_m: float) -> HeroMesh:
    """The mesh standing on y=0, centred over the origin, its largest extent ``size_m``."""
    low, high = mesh.positions.min(axis=0), mesh.positions.max(axis=0)
    centre = np.array([(low[0] + high[0]) / 2, low[1], (low[2] + high[2]) / 2])
    factor = size_m / float(np.max(high - low))
    return HeroMesh((mesh.positions - centre) * factor, mesh.faces, mesh.colors)


class SceneAppender(GlbWriter):
    """A GlbWriter resumed from a GLB our writer wrote, so nodes can be added without rebuilding the scene."""

    @classmethod
    def from_glb(cls, glb: bytes) -> SceneAppender:
        json_length, _ = struct.unpack_from("<II", glb, 12)
        doc = json.loads(glb[20:20 + json_length])
        unknown = set(doc) - _WRITER_PROPERTIES
        if unknown:
            raise ValueError(f"cannot extend a GLB with {', '.join(sorted(unknown))}")
        binary = b""
        if 20 + json_length < len(glb):
            bin_length, _ = struct.unpack_from("<II", glb, 20 + json_length)
            binary = glb[28 + json_length:28 + json_length + bin_length]
        writer = cls(doc["asset"]["generator"], doc["asset"].get("extras"))
        scene = doc["scenes"][doc.get("scene", 0)]
        writer.scene_extras = scene.get("extras", {})
        writer.roots = list(scene["nodes"])
        writer.nodes = doc["nodes"]
        writer.meshes = doc.get("meshes", [])
        writer.materials = doc.get("materials", [])
        writer.cameras = doc.get("cameras", [])
        writer.lights = doc.get("extensions", {}).get(LIGHTS_EXT, {}).get("lights", [])
        writer.accessors = doc.get("accessors", [])
        writer.views = doc.get("bufferViews", [])
        writer._bin = bytearray(binary)
        return writer

    def occupied(self) -> list[np.ndarray]:
        """World XZ boxes (x_min, z_min, x_max, z_max) of every mesh node but the ground: props, walls, water."""
        boxes = []
        for node in self.nodes:
            if "mesh" not in node or node["name"] == "ground":
                continue
            accessors = [self.accessors[p["attributes"]["POSITION"]] for p in self.meshes[node["mesh"]]["primitives"]]
            low = np.min([a["min"] for a in accessors], axis=0)
            high = np.max([a["max"] for a in accessors], axis=0)
            corners = np.array(list(itertools.product(*zip(low, high, strict=True)))) * node.get("scale", [1, 1, 1])
            x, y, z, w = node.get("rotation", [0.0, 0.0, 0.0, 1.0])
            turned = corners @ trimesh.transformations.quaternion_matrix([w, x, y, z])[:3, :3].T
            world = turned + node.get("translation", [0.0, 0.0, 0.0])
            boxes.append(np.array([world[:, 0].min(), world[:, 2].min(), world[:, 0].max(), world[:, 2].max()]))
        return boxes

    def add_hero_mesh(self, name: str, mesh: HeroMesh) -> int:
        """A mesh with smooth normals and the picture's vertex colours over a plain white material."""
        positions = np.round(mesh.positions, 4).astype(np.float32)  # 0.1 mm grid: float noise cannot change bytes
        normals = trimesh.Trimesh(positions, mesh.faces, process=False).vertex_normals.astype(np.float32)
        material = self.add_material("hero", (1.0, 1.0, 1.0), 0.0, 0.8)
        return self.add_mesh(name, [Primitive(positions, mesh.faces, material, normals, mesh.colors)])


def heroes_bytes(heroes: Sequence[Hero], meshes: Sequence[HeroMesh]) -> int:
    """What the heroes will add to scene.glb (their own small GLB, header and all: a slight overestimate)."""
    scratch = SceneAppender(GENERATOR)
    for hero, mesh in zip(heroes, meshes, strict=True):
        scratch.add_node(hero.name, mesh=scratch.add_hero_mesh(hero.name, mesh), translation=(0.0, 0.0, 0.0),
                         rotation=(0.0, 0.0, 0.0, 1.0), scale=(1.0, 1.0, 1.0))
    return len(scratch.to_bytes())


def add_heroes(plan: ScenePlan, glb: bytes, info: dict[str, Any], heroes: Sequence[Hero],
               meshes: Sequence[HeroMesh]) -> tuple[bytes, list[dict[str, Any]]]:
    """scene.glb with the heroes placed in it, and where each went (``box`` None: no free spot)."""
    writer = SceneAppender.from_glb(glb)
    placer = Placer()
    for box in writer.occupied():
        placer.block(box)
    cx, _, cz = info["camera"]["position"]
    placer.block((cx - CAMERA_SPOT_M, cz - CAMERA_SPOT_M, cx + CAMERA_SPOT_M, cz + CAMERA_SPOT_M))
    terrain = make_terrain(plan.ground, plan.seed, info["terrain_cells"])
    scatter = np.random.default_rng([plan.seed, 8])
    half_w, half_d = plan.ground.width / 2, plan.ground.depth / 2
    placed = []
    for hero, mesh in zip(heroes, meshes, strict=True):
        group = plan.objects[hero.group]
        # a square around the circle the mesh sweeps when turned, so any heading stays inside the footprint
        radius = float(np.max(np.hypot(mesh.positions[:, 0], mesh.positions[:, 2])))
        bounds = [np.array([[-radius, 0.0, -radius], [radius, float(mesh.positions[:, 1].max()), radius]])]
        region = (group.region.x_min, group.region.z_min, group.region.x_max, group.region.z_max)
        spot = (placer.place(scatter, region, bounds, group.scale, 1)
                or placer.place(scatter, (-half_w, -half_d, half_w, half_d), bounds, group.scale, 1))
        record: dict[str, Any] = {"name": hero.name, "kind": hero.kind, "group": hero.group, "prompt": hero.prompt,
                                  "box": None}
        if spot is not None:
            x0, z0, x1, z1 = spot.box
            xs, zs = np.meshgrid(np.linspace(x0, x1, 3), np.linspace(z0, z1, 3))
            y = float(terrain.height_at(xs, zs).min()) - SINK_M
            yaw = math.atan2(cx - spot.x, cz - spot.z)  # local +Z (the pictured front) towards the camera
            writer.add_node(hero.name, mesh=writer.add_hero_mesh(hero.name, mesh), translation=(spot.x, y, spot.z),
                            rotation=yaw_quaternion(yaw), scale=(spot.scale,) * 3)
            record["box"] = [round(float(v), 4) for v in spot.box]
        placed.append(record)
    writer.asset["generator"] = GENERATOR
    writer.asset.setdefault("extras", {})["heroes"] = [
        {"name": r["name"], "kind": r["kind"], "prompt": r["prompt"]} for r in placed if r["box"] is not None
    ]
    return writer.to_bytes(), placed


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build_hero_scene(ctx: StageContext, plan: ScenePlan, hero_count: int, steps: int, size: int,
                     budget_bytes: int) -> None:
    """Write ``views/hero_<nnn>.png``, ``scene.glb`` and ``thumbnail.png`` for ``plan`` through ``ctx``."""
    settings = ctx.settings
    heroes = choose_heroes(plan, hero_count)
    meshes: list[HeroMesh] = []
    triposr = optional_triposr_folder(settings)
    if heroes:
        ctx.report(0.02, f"preparing {settings.sdxl.pipeline_class}")
        pipeline, device = hot_pipeline(settings)
        model = Path(settings.sdxl.model_path).name  # not the whole path: notes reach clients
        ctx.note(f"hero pictures: {settings.sdxl.pipeline_class} {model} on {device}, {steps} steps at {size}x{size}")
    else:
        ctx.note("the plan has no objects to make hero props of: procedural scene only")
    share = 0.6 / max(1, len(heroes))
    for number, hero in enumerate(heroes):
        start = 0.05 + share * number

        def on_step(step: int, start: float = start, hero: Hero = hero) -> None:
            ctx.report(start + 0.8 * share * step / steps, f"{hero.name}: picturing a {hero.kind}, step {step}/{steps}")

        image = generate_image(pipeline, hero.prompt, hero.seed, steps, size, on_step)
        ctx.put_artifact(f"views/{hero.name}.png", _png(image), "image/png")
        mesh, how = triposr_mesh(image, triposr, device) if triposr else silhouette_mesh(image)
        ctx.note(f"{hero.name} ({hero.kind}): {how}")
        meshes.append(fit_size(mesh, hero.size_m))

    reserve = heroes_bytes(heroes, meshes) if heroes else 0
    if reserve >= budget_bytes:
        raise ProviderError(f"the hero props alone take {reserve} bytes, over the budget of {budget_bytes} bytes")
    ctx.report(0.7, f"building a {plan.setting} scene")
    glb, info = build_scene(plan, budget_bytes - reserve,
                            progress=lambda fraction, message: ctx.report(0.7 + 0.1 * fraction, message))
    placed: list[dict[str, Any]] = []
    if heroes:
        glb, placed = add_heroes(plan, glb, info, heroes, meshes)
        for record in placed:
            if record["box"] is None:
                ctx.note(f"{record['name']} ({record['kind']}) left out: no free spot for it")
    if len(glb) > budget_bytes:
        raise ProviderError(f"scene.glb is {len(glb)} bytes with its hero props, over the budget of {budget_bytes}")
    stood = sum(record["box"] is not None for record in placed)
    summary = f"scene built: {sum(info['placed'].values())} props and {stood} hero prop(s), {len(glb)} bytes"
    put_scene(ctx, plan, glb, info, summary, at=0.85)
