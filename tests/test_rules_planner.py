"""The rules planner: prompts map to the right setting and modifiers, reproducibly."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from shared.envgen.recipes import DEFAULT_SETTING, RECIPES
from shared.envgen.rules import match_setting, plan_from_prompt
from shared.providers.registry import provider_class
from shared.schemas.scene_plan import SCHEMA_PATH, ScenePlan

# prompt -> setting, and the modifiers the prompt asks for
CASES = [
    ("a dense pine forest at dusk", "forest", {"time_of_day": "dusk", "density": "dense"}),
    ("sand dunes in the desert at noon", "desert", {"time_of_day": "day", "weather": "clear"}),
    ("rainy city street at night with neon signs", "city_street",
     {"time_of_day": "night", "weather": "rainy", "lighting": "neon"}),
    ("misty cyberpunk alley with neon", "alley", {"weather": "misty", "lighting": "neon"}),
    ("a cozy living room", "interior_room", {"lighting": "warm"}),
    ("tropical beach at sunset", "beach", {"time_of_day": "dusk"}),
    ("snowy tundra", "snowfield", {"weather": "snowy"}),
    ("an eerie crystal cave", "cave", {"lighting": "moody"}),
    ("abandoned space station", "space_station", {"lighting": "cool"}),
    ("farm with a red barn at dawn", "farm", {"time_of_day": "dawn"}),
    ("a quiet park with a pond", "park", {"density": "sparse"}),
    ("busy market bazaar", "market", {"density": "dense"}),
    ("ancient temple ruins in the fog", "ruins", {"weather": "misty"}),
    ("alpine mountains under overcast skies", "mountains", {"weather": "cloudy"}),
    ("an abandoned factory interior", "factory_interior", {"lighting": "moody"}),
    ("a small bedroom at night", "bedroom", {"time_of_day": "night"}),
    ("a bright open-plan office", "office", {"lighting": "natural"}),
    ("a crowded restaurant kitchen", "kitchen", {"density": "dense"}),
    ("an old library with reading lamps", "library", {"lighting": "warm"}),
    ("a medieval tavern by candlelight", "tavern", {"lighting": "warm"}),
]


def test_prompts_give_distinct_valid_plans_for_their_settings():
    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    plans = [plan_from_prompt(prompt, 11) for prompt, _, _ in CASES]
    assert [plan.setting for plan in plans] == [setting for _, setting, _ in CASES]
    assert len({plan.setting for plan in plans}) == len(CASES) >= 12
    dumped = [plan.model_dump(mode="json") for plan in plans]
    assert len({json.dumps(d, sort_keys=True) for d in dumped}) == len(CASES)
    for plan, data in zip(plans, dumped, strict=True):
        assert list(validator.iter_errors(data)) == []
        assert ScenePlan.model_validate(json.loads(json.dumps(data))) == plan


@pytest.mark.parametrize(("prompt", "setting", "modifiers"), CASES, ids=[c[1] for c in CASES])
def test_modifiers_are_read_from_the_prompt(prompt: str, setting: str, modifiers: dict[str, str]):
    plan = plan_from_prompt(prompt, 3)
    assert plan.setting == setting
    assert {key: getattr(plan, key) for key in modifiers} == modifiers


def test_interiors_are_furnished_for_what_they_are():
    kinds = {prompt: {o.kind for o in plan_from_prompt(prompt, 5).objects} for prompt in (
        "a cozy living room with a fireplace", "an abandoned factory interior", "a bedroom", "an office",
        "a tavern")}
    assert {"sofa", "armchair", "coffee_table"} <= kinds["a cozy living room with a fireplace"]
    assert {"crate", "barrel", "console"} <= kinds["an abandoned factory interior"]
    assert not {"sofa", "armchair", "coffee_table", "rug"} & kinds["an abandoned factory interior"]
    assert "bed" in kinds["a bedroom"] and "desk" in kinds["an office"] and "stool" in kinds["a tavern"]


def test_every_recipe_is_reachable_by_its_name():
    for recipe in RECIPES:
        assert match_setting(recipe.name.replace("_", " ")) == recipe.name


@pytest.mark.parametrize("prompt", ["", "xyzzy plugh", "a completely unknown thing 12345"])
def test_unknown_words_fall_back_to_the_default_setting(prompt: str):
    plan = plan_from_prompt(prompt, 0)
    assert plan.setting == DEFAULT_SETTING
    assert plan.objects, "the default setting still has props"


def test_same_prompt_and_seed_same_plan_through_the_provider():
    planner = provider_class("plan", "rules")()
    first = planner.plan(None, "misty cyberpunk alley with neon", 42)
    assert first == planner.plan(None, "misty cyberpunk alley with neon", 42)
    assert first == plan_from_prompt("misty cyberpunk alley with neon", 42).model_dump(mode="json")
    other = planner.plan(None, "misty cyberpunk alley with neon", 43)
    assert other["seed"] == 43
    assert {k: v for k, v in other.items() if k != "seed"} != {k: v for k, v in first.items() if k != "seed"}


def test_density_scales_the_number_of_props():
    def total(prompt: str) -> int:
        return sum(group.count for group in plan_from_prompt(prompt, 7).objects)

    assert total("sparse forest") < total("forest") < total("dense forest")


def test_night_and_neon_bring_point_lights_and_a_dark_sky():
    day = plan_from_prompt("city street", 1)
    night = plan_from_prompt("neon city street at night", 1)
    assert [light.type for light in day.lights] == ["directional"]
    assert sum(light.type == "point" for light in night.lights) >= 3
    assert night.lights[0].intensity < day.lights[0].intensity
    brightness = sum(int(night.sky.zenith[i:i + 2], 16) for i in (1, 3, 5))
    assert brightness < sum(int(day.sky.zenith[i:i + 2], 16) for i in (1, 3, 5))
    assert any(group.finish == "emissive" for group in night.objects)


def test_snow_turns_outdoor_ground_white_but_not_a_room_floor():
    assert plan_from_prompt("snowy forest", 1).ground.material == "snow"
    assert plan_from_prompt("snowy living room", 1).ground.material == "wood"
