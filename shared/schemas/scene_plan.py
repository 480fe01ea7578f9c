"""The ScenePlan: everything an env generator needs to build a scene, and nothing it has to guess.

A plan is the contract between planners (rules, later an LLM) and env generators, and it may come
straight from a client, so every number and list is bounded: no plan can ask for a million props or
a ground the size of a country. Coordinates are metres, glTF axes: +Y up, the ground is centred on
the origin in the XZ plane, and the default camera looks from +Z towards -Z.

``python -m shared.schemas.scene_plan`` rewrites ``scene_plan.schema.json`` (JSON Schema 2020-12),
which a test keeps equal to the models. The schema cannot express cross-field rules (regions inside
the ground, light fields per light type, the total object cap); ``ScenePlan.model_validate`` can.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

SCHEMA_PATH = Path(__file__).with_name("scene_plan.schema.json")
SCHEMA_ID = "urn:mmf:schema:scene-plan:1"

MAX_EXTENT_M = 400.0
MAX_COORD_M = 1000.0
MAX_OBJECT_GROUPS = 32
MAX_GROUP_COUNT = 200
MAX_OBJECTS_TOTAL = 400
MAX_LIGHTS = 8
MAX_PALETTE = 12
MAX_PROMPT_CHARS = 2000

TimeOfDay = Literal["dawn", "day", "dusk", "night"]
Weather = Literal["clear", "cloudy", "misty", "rainy", "snowy", "dusty"]
LightingMood = Literal["natural", "warm", "cool", "neon", "moody"]
Density = Literal["sparse", "normal", "dense"]
GroundMaterial = Literal[
    "grass", "dirt", "sand", "snow", "rock", "asphalt", "cobblestone", "wood", "tile", "metal"
]
Finish = Literal["matte", "glossy", "metal", "emissive"]
LightType = Literal["directional", "point", "spot"]
ObjectKind = Literal[
    "tree", "pine", "palm", "bush", "rock", "cactus", "mushroom",
    "building", "house", "lamp_post", "sign", "car", "bench", "fence",
    "crate", "barrel", "table", "chair", "shelf", "sofa", "floor_lamp", "rug",
    "column", "ruin_wall", "stall", "hay_bale", "stalagmite", "crystal", "console", "snowman", "umbrella",
    "bed", "desk", "cabinet", "stool", "armchair", "coffee_table", "potted_plant", "chest",
]

TIMES_OF_DAY: tuple[str, ...] = get_args(TimeOfDay)
WEATHERS: tuple[str, ...] = get_args(Weather)
LIGHTING_MOODS: tuple[str, ...] = get_args(LightingMood)
DENSITIES: tuple[str, ...] = get_args(Density)
GROUND_MATERIALS: tuple[str, ...] = get_args(GroundMaterial)
FINISHES: tuple[str, ...] = get_args(Finish)
OBJECT_KINDS: tuple[str, ...] = get_args(ObjectKind)

HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Coord = Annotated[float, Field(ge=-MAX_COORD_M, le=MAX_COORD_M)]
Vec3 = tuple[Coord, Coord, Coord]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rect(_Model):
    """An axis-aligned rectangle on the ground plane (metres)."""

    x_min: Coord
    x_max: Coord
    z_min: Coord
    z_max: Coord

    @model_validator(mode="after")
    def _ordered(self) -> Rect:
        if not (self.x_min < self.x_max and self.z_min < self.z_max):
            raise ValueError("a rectangle needs x_min < x_max and z_min < z_max")
        return self


class Walls(_Model):
    """An enclosure around the ground's edge (rooms, caves, stations)."""

    height: float = Field(ge=0.5, le=50.0)
    color: HexColor


class Water(_Model):
    """A flat water surface at y=0 over ``region``; the terrain dips below it there."""

    region: Rect
    color: HexColor


class Ground(_Model):
    width: float = Field(ge=4.0, le=MAX_EXTENT_M, description="extent along x, metres")
    depth: float = Field(ge=4.0, le=MAX_EXTENT_M, description="extent along z, metres")
    material: GroundMaterial
    color: HexColor
    relief: float = Field(ge=0.0, le=30.0, description="terrain height amplitude, metres")
    relief_scale: float = Field(20.0, ge=1.0, le=200.0, description="horizontal size of terrain features, metres")
    walls: Walls | None = None
    water: Water | None = None


class Sky(_Model):
    zenith: HexColor
    horizon: HexColor
    fog_density: float = Field(0.0, ge=0.0, le=0.2, description="exponential fog, per metre")


class Light(_Model):
    """A KHR_lights_punctual light; intensity in lux (directional) or candela (point, spot)."""

    type: LightType
    color: HexColor
    intensity: float = Field(gt=0.0, le=100_000.0)
    position: Vec3 | None = None
    direction: Vec3 | None = None
    spot_angle_deg: float = Field(45.0, gt=0.0, le=90.0, description="spot lights: cone half-angle")

    @model_validator(mode="after")
    def _fields_for_type(self) -> Light:
        if self.type in ("point", "spot") and self.position is None:
            raise ValueError(f"a {self.type} light needs a position")
        needs_direction = self.type in ("directional", "spot")
        if needs_direction and (self.direction is None or math.hypot(*self.direction) < 1e-6):
            raise ValueError(f"a {self.type} light needs a non-zero direction")
        return self


class ObjectGroup(_Model):
    """Up to ``count`` props of one kind, scattered over ``region`` without overlapping."""

    kind: ObjectKind
    count: int = Field(ge=1, le=MAX_GROUP_COUNT)
    region: Rect
    scale: tuple[Annotated[float, Field(ge=0.1, le=10.0)], Annotated[float, Field(ge=0.1, le=10.0)]]
    color: HexColor
    finish: Finish = "matte"

    @field_validator("scale")
    @classmethod
    def _scale_ordered(cls, scale: tuple[float, float]) -> tuple[float, float]:
        if scale[0] > scale[1]:
            raise ValueError("scale is [min, max] with min <= max")
        return scale


class Camera(_Model):
    position: Vec3
    target: Vec3
    fov_deg: float = Field(60.0, ge=10.0, le=120.0, description="vertical field of view")

    @model_validator(mode="after")
    def _distinct(self) -> Camera:
        if math.dist(self.position, self.target) < 1e-3:
            raise ValueError("camera position and target must differ")
        return self


class ScenePlan(_Model):
    """A scene to build: setting, mood, ground, sky, lights, props and where to look from."""

    schema_version: Literal[1] = 1
    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    seed: int = Field(ge=0, le=2**32 - 1)
    setting: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    time_of_day: TimeOfDay
    weather: Weather
    lighting: LightingMood
    density: Density
    palette: list[HexColor] = Field(min_length=1, max_length=MAX_PALETTE)
    ground: Ground
    sky: Sky
    lights: list[Light] = Field(min_length=1, max_length=MAX_LIGHTS)
    objects: list[ObjectGroup] = Field(max_length=MAX_OBJECT_GROUPS)
    camera: Camera

    @model_validator(mode="after")
    def _within_bounds(self) -> ScenePlan:
        total = sum(group.count for group in self.objects)
        if total > MAX_OBJECTS_TOTAL:
            raise ValueError(f"the plan asks for {total} objects; at most {MAX_OBJECTS_TOTAL} in all")
        half_w, half_d = self.ground.width / 2, self.ground.depth / 2
        regions = [(f"objects[{i}].region", g.region) for i, g in enumerate(self.objects)]
        if self.ground.water is not None:
            regions.append(("ground.water.region", self.ground.water.region))
        for where, r in regions:
            if r.x_min < -half_w or r.x_max > half_w or r.z_min < -half_d or r.z_max > half_d:
                raise ValueError(f"{where} lies outside the ground ({self.ground.width} x {self.ground.depth} m)")
        return self


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a plan as exchanged in JSON (what clients and other languages validate)."""
    schema = ScenePlan.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def write_json_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate the committed schema file after a model change."""
    path.write_text(json_schema_text())
    return path


if __name__ == "__main__":
    print(write_json_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH))
