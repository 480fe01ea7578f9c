"""The ScenePlan contract: committed JSON Schema, JSON round trips, bounds and readable errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from shared.envgen.rules import plan_from_prompt
from shared.providers.plan_stub import StubPlanner
from shared.schemas.scene_plan import MAX_OBJECTS_TOTAL, SCHEMA_PATH, ScenePlan, json_schema, json_schema_text


def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _base() -> dict[str, Any]:
    return plan_from_prompt("rainy city street at night with neon signs", 5).model_dump(mode="json")


def test_committed_schema_is_the_current_export():
    assert SCHEMA_PATH.read_text() == json_schema_text(), "run: python -m shared.schemas.scene_plan"
    assert json_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("plan", [
    plan_from_prompt("a misty forest at dawn", 1),
    plan_from_prompt("cozy living room", 2),
    plan_from_prompt("tropical beach", 3),
    ScenePlan.model_validate(StubPlanner().plan(None, "anything", 4)),
], ids=["forest", "room-with-walls", "beach-with-water", "stub"])
def test_plan_round_trips_through_json_and_the_schema(plan: ScenePlan):
    dumped = json.loads(plan.model_dump_json())
    assert ScenePlan.model_validate(dumped) == plan
    assert list(_validator().iter_errors(plan.model_dump(mode="json"))) == []


@pytest.mark.parametrize(("path", "value", "loc"), [
    (("objects", 0, "count"), 10**6, ("objects", 0, "count")),
    (("objects", 0, "kind"), "dragon", ("objects", 0, "kind")),
    (("sky", "zenith"), "blue", ("sky", "zenith")),
    (("ground", "width"), 10_000.0, ("ground", "width")),
    (("camera", "fov_deg"), 179.0, ("camera", "fov_deg")),
    (("ground", "texture"), "moss", ("ground", "texture")),
    (("lights",), [], ("lights",)),
    (("objects", 1, "scale"), [2.0, 1.0], ("objects", 1, "scale")),
])
def test_invalid_field_raises_with_its_path(path: tuple, value: Any, loc: tuple):
    data = _base()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as caught:
        ScenePlan.model_validate(data)
    assert loc in [tuple(error["loc"]) for error in caught.value.errors()]
    assert ".".join(map(str, loc)) in str(caught.value)


@pytest.mark.parametrize(("path", "value"), [
    (("objects", 0, "count"), 10**6), (("objects", 0, "kind"), "dragon"), (("sky", "zenith"), "blue"),
    (("ground", "texture"), "moss"), (("seed",), -1),
])
def test_schema_refuses_what_the_models_refuse(path: tuple, value: Any):
    data = _base()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert list(_validator().iter_errors(data)), f"schema accepted {path}={value!r}"


def test_cross_field_rules_name_the_offending_part():
    data = _base()
    data["objects"][2]["region"]["x_max"] = data["ground"]["width"]  # beyond the half width
    with pytest.raises(ValidationError, match=r"objects\[2\]\.region lies outside the ground"):
        ScenePlan.model_validate(data)

    data = _base()
    data["lights"][0] = {"type": "point", "color": "#ffffff", "intensity": 10.0}
    with pytest.raises(ValidationError, match="point light needs a position") as caught:
        ScenePlan.model_validate(data)
    assert ("lights", 0) in [tuple(error["loc"]) for error in caught.value.errors()]


def test_total_object_count_is_capped():
    data = _base()
    group = data["objects"][0]
    data["objects"] = [copy.deepcopy(group) | {"count": 200} for _ in range(3)]
    with pytest.raises(ValidationError, match=f"at most {MAX_OBJECTS_TOTAL} in all"):
        ScenePlan.model_validate(data)


def test_stub_planner_is_deterministic_and_minimal():
    first = StubPlanner().plan(None, "a red barn", 9)
    assert first == StubPlanner().plan(None, "a red barn", 9)
    plan = ScenePlan.model_validate(first)
    assert [group.kind for group in plan.objects] == ["crate"]
    assert 1 <= plan.objects[0].count <= 3
    assert plan.ground.relief == 0
