"""The procedural env generator: valid, deterministic GLBs with one node per prop and no overlaps.

The GLB is inspected from its own JSON (node transforms, accessor bounds), not from the
generator's bookkeeping, so a bug in either shows up as a disagreement.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from shared.config import get_settings
from shared.envgen.procedural import build_scene
from shared.envgen.props import BUILDERS
from shared.envgen.recipes import RECIPES
from shared.envgen.rules import plan_from_prompt
from shared.errors import ProviderError
from shared.pipeline.context import StageContext
from shared.pipeline.env import SCENE_PROGRESS
from shared.providers.plan_stub import StubPlanner
from shared.providers.registry import provider_class
from shared.schemas.scene_plan import OBJECT_KINDS, ScenePlan
from tests.stage_jobs import StageJob

ROOT = Path(__file__).resolve().parents[1]
VALIDATE = ROOT / "tools" / "gltf" / "validate.mjs"
PROP_NAME = re.compile(rf"^({'|'.join(OBJECT_KINDS)})_\d{{3}}$")
SETTINGS = [recipe.name for recipe in RECIPES]


@functools.cache
def built(setting: str, seed: int = 1) -> tuple[ScenePlan, bytes, dict[str, Any]]:
    plan = plan_from_prompt(setting.replace("_", " "), seed)
    assert plan.setting == setting
    glb, info = build_scene(plan)
    return plan, glb, info


def read_glb(data: bytes) -> dict[str, Any]:
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert (magic, version, length) == (0x46546C67, 2, len(data))
    json_length, chunk_type = struct.unpack_from("<II", data, 12)
    assert chunk_type == 0x4E4F534A
    return json.loads(data[20:20 + json_length])


def node_matrix(node: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    x, y, z, w = node.get("rotation", [0.0, 0.0, 0.0, 1.0])
    rotation = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    return rotation * np.asarray(node.get("scale", [1.0, 1.0, 1.0])), np.asarray(node.get("translation", [0.0] * 3))


def prop_boxes(doc: dict[str, Any]) -> dict[str, np.ndarray]:
    """World XZ box (x_min, z_min, x_max, z_max) of every prop node, from accessor bounds and TRS."""
    roots = set(doc["scenes"][0]["nodes"])
    boxes = {}
    for index, node in enumerate(doc["nodes"]):
        if not PROP_NAME.match(node["name"]):
            continue
        assert index in roots and "children" not in node, "props are expected to be root nodes"
        linear, offset = node_matrix(node)
        corners = []
        for primitive in doc["meshes"][node["mesh"]]["primitives"]:
            accessor = doc["accessors"][primitive["attributes"]["POSITION"]]
            low, high = accessor["min"], accessor["max"]
            corners += [(a, b, c) for a in (low[0], high[0]) for b in (low[1], high[1]) for c in (low[2], high[2])]
        world = np.asarray(corners) @ linear.T + offset
        boxes[node["name"]] = np.array([world[:, 0].min(), world[:, 2].min(), world[:, 0].max(), world[:, 2].max()])
    return boxes


def test_every_object_kind_has_a_builder():
    assert set(BUILDERS) == set(OBJECT_KINDS)


@pytest.mark.parametrize("kind", OBJECT_KINDS)
def test_every_kind_builds_placeable_props(kind: str):
    data = StubPlanner().plan(None, kind, 1)
    data["objects"][0] |= {"kind": kind, "count": 3, "scale": [0.5, 0.5],
                           "region": {"x_min": -9.0, "x_max": 9.0, "z_min": -9.0, "z_max": 5.0}}
    glb, info = build_scene(ScenePlan.model_validate(data))
    assert info["placed"] == {kind: 3}
    assert sorted(prop_boxes(read_glb(glb))) == [f"{kind}_{i:03d}" for i in range(3)]


def test_same_plan_gives_byte_identical_glb_even_in_another_process():
    plan, glb, _ = built("city_street")
    assert build_scene(plan)[0] == glb
    code = ("import hashlib, sys; from shared.envgen.procedural import build_scene; "
            "from shared.envgen.rules import plan_from_prompt; "
            "print(hashlib.sha256(build_scene(plan_from_prompt('city street', 1))[0]).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == hashlib.sha256(glb).hexdigest()


def test_a_different_seed_gives_a_different_scene():
    plan, glb, _ = built("forest")
    other_glb, _ = build_scene(plan.model_copy(update={"seed": plan.seed + 1}))
    assert other_glb != glb
    assert prop_boxes(read_glb(other_glb))["tree_000"].tolist() != prop_boxes(read_glb(glb))["tree_000"].tolist()


def test_every_scene_passes_the_khronos_validator(tmp_path: Path):
    node = shutil.which("node")
    assert node, "node is needed for the glTF validator"
    assert (VALIDATE.parent / "node_modules" / "gltf-validator").is_dir(), "run: npm ci --prefix tools/gltf"
    spotlit = StubPlanner().plan(None, "spot", 1)
    spotlit["lights"].append({"type": "spot", "color": "#ffeedd", "intensity": 50.0, "position": [0.0, 5.0, 0.0],
                              "direction": [0.0, -1.0, 0.2], "spot_angle_deg": 30.0})
    scenes = {setting: built(setting)[1] for setting in SETTINGS}
    scenes["stub_with_spot_light"] = build_scene(ScenePlan.model_validate(spotlit))[0]
    paths = []
    for name, glb in scenes.items():
        path = tmp_path / f"{name}.glb"
        path.write_bytes(glb)
        paths.append(str(path))
    result = subprocess.run([node, str(VALIDATE), *paths], capture_output=True, text=True, timeout=120)
    reports = json.loads(result.stdout)
    assert len(reports) == len(scenes)
    assert {kind for setting in SETTINGS for kind in built(setting)[2]["placed"]} == set(OBJECT_KINDS), \
        "the scenes validated here hold every kind of prop"
    for setting, report in zip(scenes, reports, strict=True):
        issues = report["issues"]
        assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), (setting, issues["messages"][:5])
    assert result.returncode == 0, result.stderr


def test_the_validator_script_fails_on_a_broken_file(tmp_path: Path):
    glb = bytearray(built("park")[1])
    struct.pack_into("<I", glb, 8, len(glb) + 4)  # header length disagrees with the file
    broken = tmp_path / "broken.glb"
    broken.write_bytes(bytes(glb))
    result = subprocess.run(["node", str(VALIDATE), str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert [m["code"] for m in json.loads(result.stdout)["issues"]["messages"]] == ["GLB_LENGTH_MISMATCH"]


@pytest.mark.parametrize("setting", SETTINGS)
def test_one_named_node_per_placed_prop_and_no_overlaps(setting: str):
    plan, glb, info = built(setting)
    doc = read_glb(glb)
    boxes = prop_boxes(doc)
    names = [node["name"] for node in doc["nodes"]]
    assert len(names) == len(set(names)), "node names are unique"
    assert sorted(boxes) == sorted(prop["name"] for prop in info["props"])
    per_kind: dict[str, int] = {}
    for name in boxes:
        per_kind[name[:-4]] = per_kind.get(name[:-4], 0) + 1
    assert per_kind == info["placed"]
    requested = sum(group.count for group in plan.objects)
    assert len(boxes) >= 0.8 * requested, f"only {len(boxes)} of {requested} props placed"

    stacked = np.array(list(boxes.values()))
    x0, z0, x1, z1 = (stacked[:, i] for i in range(4))
    overlap = (x0[:, None] < x1[None, :]) & (x0[None, :] < x1[:, None]) & (z0[:, None] < z1[None, :]) \
        & (z0[None, :] < z1[:, None])
    np.fill_diagonal(overlap, False)
    assert not overlap.any(), f"overlapping props: {np.argwhere(overlap)[:3].tolist()}"
    half_w, half_d = plan.ground.width / 2, plan.ground.depth / 2
    assert (x0 >= -half_w).all() and (x1 <= half_w).all() and (z0 >= -half_d).all() and (z1 <= half_d).all()


@pytest.mark.parametrize("setting", ["cave", "city_street", "park"])
def test_lights_and_camera_are_in_the_file(setting: str):
    plan, glb, _ = built(setting)
    doc = read_glb(glb)
    assert doc["extensionsUsed"] == ["KHR_lights_punctual"]
    lights = doc["extensions"]["KHR_lights_punctual"]["lights"]
    assert [light["type"] for light in lights] == [light.type for light in plan.lights]
    light_nodes = [n for n in doc["nodes"] if "KHR_lights_punctual" in n.get("extensions", {})]
    assert len(light_nodes) == len(plan.lights)
    for node, light in zip(light_nodes, plan.lights, strict=True):
        if light.direction is not None:  # glTF lights shine down their node's -Z
            shines = node_matrix(node)[0] @ [0.0, 0.0, -1.0]
            assert shines == pytest.approx(np.asarray(light.direction) / np.linalg.norm(light.direction), abs=1e-5)
        if light.position is not None:
            assert node["translation"] == pytest.approx(light.position, abs=1e-5)
    (camera_node,) = [n for n in doc["nodes"] if "camera" in n]
    assert doc["cameras"][camera_node["camera"]]["perspective"]["yfov"] == pytest.approx(
        np.radians(plan.camera.fov_deg), abs=1e-6)
    looks = node_matrix(camera_node)[0] @ [0.0, 0.0, -1.0]
    towards_target = np.subtract(plan.camera.target, camera_node["translation"])
    assert looks == pytest.approx(towards_target / np.linalg.norm(towards_target), abs=1e-5)
    assert {"ground"} <= set(names := [n["name"] for n in doc["nodes"]])
    if plan.ground.walls is not None:
        assert {"wall_north", "wall_south", "wall_east", "wall_west"} <= set(names)
    if plan.ground.water is not None:
        assert "water" in names


def test_a_tight_budget_reduces_detail_and_is_respected():
    plan, glb, _ = built("mountains")
    budget = len(glb) // 3
    reduced, info = build_scene(plan, budget_bytes=budget)
    assert len(reduced) <= budget
    assert info["detail_level"] > 0 and info["reductions"]
    assert "budget" in info["reductions"][0]


def test_an_impossible_budget_is_a_clear_provider_error():
    plan, _, _ = built("forest")
    with pytest.raises(ProviderError, match="budget of 2000 bytes"):
        build_scene(plan, budget_bytes=2000)


def scene_stage(root: Path) -> tuple[StageJob, StageContext, list[tuple[float, str]]]:
    """A real scene-stage context of an env job, with every progress report it makes also kept in a list."""
    job = StageJob(root, "env", {"prompt": "alley"}, get_settings(), {"plan": "rules", "env": "procedural"})
    ctx = job.context("generating_scene", SCENE_PROGRESS)
    reports: list[tuple[float, str]] = []
    report = ctx.report

    def recording_report(fraction: float, message: str) -> None:
        reports.append((fraction, message))
        report(fraction, message)

    ctx.report = recording_report
    return job, ctx, reports


def test_provider_writes_scene_and_thumbnail_and_reports_progress(tmp_path):
    plan, glb, _ = built("alley")
    job, ctx, reports = scene_stage(tmp_path)
    provider_class("env", "procedural")().generate(ctx, plan.model_dump(mode="json"))
    assert job.artifact("scene.glb") == glb
    assert job.record["artifacts"]["scene.glb"]["content_type"] == "model/gltf-binary"
    assert job.record["artifacts"]["thumbnail.png"]["content_type"] == "image/png"
    assert Image.open(io.BytesIO(job.artifact("thumbnail.png"))).size == (512, 384)
    fractions = [fraction for fraction, _ in reports]
    assert len(fractions) >= 3 and fractions == sorted(fractions) and 0 <= fractions[0] <= fractions[-1] <= 1
    assert any("props placed" in message for _, message in reports)


def test_provider_options_and_plans_are_checked(tmp_path):
    cls = provider_class("env", "procedural")
    with pytest.raises(ValidationError):
        cls({"glb_budget_bytes": 10})
    with pytest.raises(ValidationError):
        cls({"polygons": 5})
    _, ctx, _ = scene_stage(tmp_path)
    with pytest.raises(ProviderError, match="not a valid ScenePlan"):
        cls().generate(ctx, {"setting": "forest"})


def test_stub_plan_builds_its_crates():
    plan = ScenePlan.model_validate(StubPlanner().plan(None, "hello", 3))
    glb, info = build_scene(plan)
    assert info["placed"] == {"crate": plan.objects[0].count}
    assert len(prop_boxes(read_glb(glb))) == plan.objects[0].count
