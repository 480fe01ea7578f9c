"""What each recognised setting looks like before modifiers: ground, props, camera, defaults.

Regions and camera x/z are fractions of the ground's half extents (-1 = left/far edge, +1 =
right/near edge; the camera sits near +z looking towards -z), so a recipe reads the same whatever
the ground size. Counts are for "normal" density; the rules scale them.
"""

from __future__ import annotations

from dataclasses import dataclass

Frac4 = tuple[float, float, float, float]


@dataclass(frozen=True)
class Group:
    kind: str
    count: int
    region: Frac4  # x_min, x_max, z_min, z_max as fractions of the half extents
    scale: tuple[float, float]
    color: str
    finish: str = "matte"


@dataclass(frozen=True)
class PointLight:
    x: float  # fraction of the half width
    y: float  # metres
    z: float  # fraction of the half depth
    color: str
    intensity: float


@dataclass(frozen=True)
class Recipe:
    name: str
    phrases: dict[str, int]  # phrase -> weight; the best total weight picks the setting
    size: tuple[float, float]
    material: str
    ground_color: str
    relief: float
    relief_scale: float
    groups: tuple[Group, ...]
    camera: tuple[float, float, float]  # x frac, height (m), z frac
    target: tuple[float, float, float]
    fov_deg: float = 60.0
    walls: tuple[float, str] | None = None  # height, colour
    water: Frac4 | None = None
    water_color: str = "#2f7fae"
    sky: tuple[str, str] | None = None  # zenith, horizon: for places whose sky is not the weather's
    lights: tuple[PointLight, ...] = ()
    time_of_day: str = "day"
    weather: str = "clear"
    lighting: str = "natural"
    urban: bool = False  # neon adds glowing signs here

    @property
    def enclosed(self) -> bool:
        return self.walls is not None


WHOLE = (-0.95, 0.95, -0.95, 0.8)

RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "space_station", {"space station": 6, "spaceship": 5, "starship": 5, "spacecraft": 5, "orbital": 3,
                          "station": 2, "sci fi": 2, "scifi": 2, "space": 1},
        (24, 30), "metal", "#5d6570", 0.0, 10.0,
        (Group("console", 6, (-0.9, 0.9, -0.9, 0.4), (1.0, 1.0), "#38424f", "metal"),
         Group("crate", 8, (-0.9, 0.9, -0.9, 0.5), (0.8, 1.2), "#c9a227", "metal"),
         Group("column", 6, (-0.9, 0.9, -0.9, 0.3), (1.0, 1.0), "#8c96a3", "metal")),
        (0.0, 1.8, 0.9), (0.0, 1.2, -0.4), 70.0, walls=(5.0, "#a3acb6"), sky=("#020308", "#0b1024"),
        lights=(PointLight(0.0, 4.5, -0.3, "#dbe8ff", 40.0), PointLight(0.0, 4.5, 0.5, "#dbe8ff", 30.0)),
        lighting="cool"),
    Recipe(
        "alley", {"alley": 6, "alleyway": 6, "backstreet": 5, "back street": 5, "lane": 2},
        (16, 40), "asphalt", "#2f3036", 0.0, 10.0,
        (Group("building", 5, (-0.98, -0.42, -1.0, 0.8), (0.55, 0.75), "#6e6a70"),
         Group("building", 5, (0.42, 0.98, -1.0, 0.8), (0.55, 0.75), "#7a6658"),
         Group("crate", 8, (-0.38, 0.38, -0.9, 0.7), (0.6, 1.0), "#8a6a3f"),
         Group("barrel", 6, (-0.38, 0.38, -0.9, 0.7), (0.8, 1.0), "#4a5a6a", "metal"),
         Group("sign", 4, (-0.4, 0.4, -0.9, 0.5), (0.8, 1.0), "#ffb347", "emissive"),
         Group("lamp_post", 3, (-0.4, 0.4, -0.9, 0.6), (0.8, 0.9), "#2c2f36", "metal")),
        (0.0, 1.7, 0.95), (0.0, 2.5, -0.2), 65.0, urban=True),
    Recipe(
        "city_street", {"city street": 6, "street": 4, "avenue": 4, "boulevard": 4, "downtown": 4, "city": 3,
                        "urban": 3, "road": 1, "cyberpunk": 1, "town": 2},
        (40, 70), "asphalt", "#3b3c42", 0.0, 10.0,
        (Group("building", 7, (-0.97, -0.5, -1.0, 0.85), (1.0, 1.45), "#8c8f99"),
         Group("building", 7, (0.5, 0.97, -1.0, 0.85), (1.0, 1.45), "#a48f7a"),
         Group("lamp_post", 5, (-0.48, -0.3, -0.95, 0.9), (1.0, 1.0), "#2c2f36", "metal"),
         Group("lamp_post", 5, (0.3, 0.48, -0.95, 0.9), (1.0, 1.0), "#2c2f36", "metal"),
         Group("car", 4, (-0.25, 0.25, -0.9, 0.6), (0.9, 1.1), "#b23a3a", "glossy"),
         Group("sign", 3, (-0.48, 0.48, -0.9, 0.5), (1.0, 1.2), "#ffcc33", "emissive"),
         Group("bench", 3, (-0.48, 0.48, -0.9, 0.8), (1.0, 1.0), "#6b4a2f"),
         Group("barrel", 3, (-0.48, 0.48, -0.9, 0.8), (0.7, 0.8), "#3f4a3f", "metal")),
        (0.0, 2.0, 0.95), (0.0, 3.0, -0.3), 65.0, urban=True),
    Recipe(
        "interior_room", {"living room": 6, "lounge": 5, "sitting room": 6, "den": 4, "room": 3, "interior": 3,
                          "indoor": 3, "indoors": 3, "apartment": 4, "fireplace": 3, "home": 2},
        (10, 8), "wood", "#8b6b4a", 0.0, 10.0,
        (Group("sofa", 1, (-0.8, 0.8, -0.9, -0.45), (1.0, 1.1), "#3f5f7a"),
         Group("shelf", 2, (-0.9, 0.9, -0.95, -0.6), (1.0, 1.0), "#7a5a3a"),
         Group("coffee_table", 1, (-0.35, 0.35, -0.35, 0.25), (1.0, 1.0), "#6b4a2f", "glossy"),
         Group("rug", 1, (-0.9, 0.9, -0.5, 0.6), (1.0, 1.2), "#8e3b46"),
         Group("armchair", 2, (-0.9, 0.9, -0.4, 0.5), (1.0, 1.0), "#7a4a3a"),
         Group("potted_plant", 2, (-0.95, 0.95, -0.95, 0.6), (1.2, 1.6), "#b8643c"),
         Group("floor_lamp", 2, (-0.9, 0.9, -0.9, 0.6), (1.0, 1.0), "#f3dfb0", "emissive")),
        (0.0, 1.6, 0.85), (0.0, 0.8, -0.5), 70.0, walls=(3.0, "#d9d0c1"), sky=("#5d6a7a", "#a9b4c0"),
        lights=(PointLight(0.0, 2.8, 0.0, "#ffd9a0", 12.0),), lighting="warm"),
    Recipe(
        "bedroom", {"bedroom": 6, "bed room": 6, "hotel room": 6, "dorm": 5, "dormitory": 5, "guest room": 6,
                    "nursery": 4, "bed": 2},
        (9, 8), "wood", "#9a7b58", 0.0, 10.0,
        (Group("bed", 1, (-0.5, 0.5, -0.95, -0.05), (1.0, 1.0), "#c8d0e0"),
         Group("cabinet", 2, (-0.95, 0.95, -0.95, -0.6), (1.0, 1.0), "#efe9df"),
         Group("rug", 1, (-0.6, 0.6, 0.0, 0.6), (0.8, 1.0), "#6a8ab0"),
         Group("chair", 1, (0.4, 0.95, 0.1, 0.7), (1.0, 1.0), "#efe9df"),
         Group("potted_plant", 2, (-0.95, 0.95, -0.9, 0.7), (1.0, 1.4), "#b8643c"),
         Group("floor_lamp", 1, (-0.95, -0.5, -0.9, 0.2), (1.0, 1.0), "#f3dfb0", "emissive")),
        (0.0, 1.6, 0.9), (0.0, 0.7, -0.5), 70.0, walls=(2.8, "#e4deec"), sky=("#5d6a7a", "#a9b4c0"),
        lights=(PointLight(0.0, 2.6, 0.0, "#ffe2b8", 10.0),), lighting="warm"),
    Recipe(
        "office", {"office": 6, "home office": 6, "study": 5, "workspace": 5, "cubicle": 5, "workplace": 4,
                   "coworking": 5, "classroom": 3},
        (12, 10), "tile", "#b8b6ae", 0.0, 10.0,
        (Group("desk", 3, (-0.9, 0.9, -0.9, 0.3), (1.0, 1.0), "#d8d2c4"),
         Group("chair", 3, (-0.9, 0.9, -0.9, 0.5), (1.0, 1.0), "#2f3440"),
         Group("cabinet", 2, (-0.95, 0.95, -0.95, -0.7), (1.0, 1.0), "#8a9099", "metal"),
         Group("shelf", 2, (-0.95, 0.95, -0.95, -0.7), (1.0, 1.0), "#d8d2c4"),
         Group("potted_plant", 3, (-0.95, 0.95, -0.95, 0.7), (1.2, 1.8), "#e8e4dc"),
         Group("floor_lamp", 1, (-0.95, 0.95, -0.9, 0.5), (1.0, 1.0), "#f4f4ee", "emissive")),
        (0.0, 1.7, 0.9), (0.0, 0.8, -0.4), 70.0, walls=(3.0, "#e3e6e8"), sky=("#6a7886", "#b4c0cc"),
        lights=(PointLight(-0.3, 2.8, -0.2, "#f4f8ff", 12.0), PointLight(0.3, 2.8, 0.3, "#f4f8ff", 12.0)),
        lighting="cool"),
    Recipe(
        "kitchen", {"kitchen": 6, "dining room": 6, "diner": 5, "cafe": 5, "restaurant": 5, "canteen": 5,
                    "cafeteria": 5, "bistro": 5, "dining": 3},
        (12, 10), "tile", "#d8d2c6", 0.0, 10.0,
        (Group("table", 2, (-0.7, 0.7, -0.4, 0.4), (1.0, 1.0), "#a07850"),
         Group("chair", 8, (-0.9, 0.9, -0.6, 0.6), (1.0, 1.0), "#a07850"),
         Group("cabinet", 4, (-0.95, 0.95, -0.95, -0.75), (1.0, 1.0), "#f2efe8"),
         Group("stool", 3, (-0.9, 0.9, -0.75, -0.55), (1.0, 1.0), "#4a4f57", "metal"),
         Group("potted_plant", 2, (-0.95, 0.95, 0.4, 0.8), (0.8, 1.2), "#b8643c")),
        (0.0, 1.7, 0.9), (0.0, 0.8, -0.4), 70.0, walls=(2.9, "#f0ead8"), sky=("#6a7886", "#b4c0cc"),
        lights=(PointLight(0.0, 2.7, 0.0, "#fff0d8", 14.0),), lighting="warm"),
    Recipe(
        "library", {"library": 6, "bookstore": 6, "bookshop": 6, "book shop": 6, "reading room": 6, "archive": 4,
                    "books": 2, "bookshelves": 4},
        (14, 12), "wood", "#6b4f36", 0.0, 10.0,
        (Group("shelf", 10, (-0.95, 0.95, -0.95, -0.3), (1.0, 1.2), "#5a3a24"),
         Group("table", 2, (-0.5, 0.5, -0.1, 0.5), (1.0, 1.0), "#6b4a2f", "glossy"),
         Group("chair", 4, (-0.6, 0.6, -0.2, 0.7), (1.0, 1.0), "#6b4a2f"),
         Group("armchair", 2, (-0.95, 0.95, 0.2, 0.8), (1.0, 1.0), "#7a2a2a"),
         Group("rug", 1, (-0.7, 0.7, 0.0, 0.7), (1.0, 1.3), "#4a2a3a"),
         Group("floor_lamp", 2, (-0.95, 0.95, -0.2, 0.8), (1.0, 1.0), "#f3dfb0", "emissive")),
        (0.0, 1.7, 0.92), (0.0, 1.2, -0.5), 70.0, walls=(4.0, "#c8b89a"), sky=("#4a4a52", "#8a8a92"),
        lights=(PointLight(0.0, 3.6, -0.2, "#ffd9a0", 16.0),), lighting="warm"),
    Recipe(
        "factory_interior", {"factory": 6, "factory interior": 8, "warehouse": 6, "industrial": 4, "workshop": 5,
                             "hangar": 5, "garage": 4, "mill": 3, "plant floor": 5, "assembly line": 5,
                             "storage": 3, "depot": 4},
        (30, 24), "metal", "#5e5f5c", 0.0, 10.0,
        (Group("crate", 14, (-0.9, 0.9, -0.9, 0.6), (0.8, 1.4), "#8a6a3f"),
         Group("barrel", 10, (-0.9, 0.9, -0.9, 0.6), (0.9, 1.0), "#8a3e1e", "metal"),
         Group("column", 6, (-0.8, 0.8, -0.8, 0.5), (1.4, 1.6), "#7d7a72"),
         Group("console", 5, (-0.9, 0.9, -0.9, 0.2), (1.2, 1.5), "#4a5560", "metal"),
         Group("shelf", 4, (-0.95, 0.95, -0.95, -0.75), (1.0, 1.3), "#6a6f75", "metal")),
        (0.0, 2.2, 0.92), (0.0, 1.5, -0.3), 70.0, walls=(7.0, "#7d7a72"), sky=("#2a2b2e", "#4a4c50"),
        lights=(PointLight(-0.3, 6.0, -0.2, "#ffe8c0", 30.0), PointLight(0.3, 6.0, 0.3, "#ffe8c0", 30.0)),
        lighting="moody"),
    Recipe(
        "tavern", {"tavern": 6, "inn": 5, "pub": 6, "saloon": 5, "bar": 3, "alehouse": 6, "brewery": 4,
                   "cellar": 4},
        (14, 12), "wood", "#5a3e28", 0.0, 10.0,
        (Group("table", 4, (-0.8, 0.8, -0.6, 0.5), (0.9, 1.0), "#6b4a2f"),
         Group("stool", 10, (-0.9, 0.9, -0.7, 0.7), (1.0, 1.0), "#6b4a2f"),
         Group("bench", 3, (-0.9, 0.9, 0.3, 0.8), (1.0, 1.0), "#5a3a24"),
         Group("barrel", 8, (-0.95, 0.95, -0.95, -0.6), (1.0, 1.0), "#7a5533"),
         Group("chest", 1, (-0.95, 0.95, -0.95, 0.8), (1.0, 1.0), "#6b4a2f"),
         Group("floor_lamp", 2, (-0.95, 0.95, -0.9, 0.6), (1.0, 1.0), "#ffc070", "emissive")),
        (0.0, 1.7, 0.9), (0.0, 1.0, -0.4), 70.0, walls=(3.2, "#8a6a4a"), sky=("#2a1e16", "#4a3626"),
        lights=(PointLight(-0.3, 2.8, 0.0, "#ffb060", 14.0), PointLight(0.3, 2.8, -0.3, "#ffb060", 14.0)),
        lighting="warm"),
    Recipe(
        "cave", {"cave": 6, "cavern": 6, "grotto": 6, "underground": 4, "mine": 3, "crystal": 1},
        (30, 30), "rock", "#4d4640", 0.8, 6.0,
        (Group("stalagmite", 16, WHOLE, (0.6, 1.6), "#6a5f55"),
         Group("crystal", 10, WHOLE, (0.6, 1.4), "#3fd6e0", "emissive"),
         Group("rock", 10, WHOLE, (0.6, 1.8), "#5a524b"),
         Group("mushroom", 6, WHOLE, (0.5, 1.0), "#b36ae2", "emissive")),
        (0.0, 2.0, 0.85), (0.0, 1.2, -0.3), 65.0, walls=(8.0, "#3b3530"), sky=("#0d0b0a", "#1e1a17"),
        lights=(PointLight(-0.3, 2.5, -0.2, "#7fe8ff", 30.0), PointLight(0.4, 2.5, 0.2, "#c58bff", 20.0)),
        lighting="moody"),
    Recipe(
        "market", {"market": 6, "marketplace": 6, "bazaar": 6, "souk": 6, "stalls": 4, "fair": 3, "vendors": 3},
        (40, 40), "cobblestone", "#8f8578", 0.0, 10.0,
        (Group("stall", 10, (-0.9, 0.9, -0.9, 0.6), (0.9, 1.1), "#c0392b"),
         Group("crate", 12, WHOLE, (0.6, 1.0), "#8a6a3f"),
         Group("barrel", 8, WHOLE, (0.8, 1.0), "#6b4a2f"),
         Group("umbrella", 3, WHOLE, (0.9, 1.1), "#e7b416"),
         Group("lamp_post", 4, WHOLE, (0.9, 1.0), "#2d3036", "metal")),
        (0.0, 2.2, 0.95), (0.0, 1.2, 0.0), 65.0, urban=True),
    Recipe(
        "ruins", {"ruins": 6, "ruin": 6, "ruined": 5, "temple": 4, "ancient": 3, "colosseum": 4, "acropolis": 4},
        (50, 50), "dirt", "#8b7a5c", 1.2, 14.0,
        (Group("column", 12, WHOLE, (0.8, 1.2), "#c9bfa8"),
         Group("ruin_wall", 8, WHOLE, (0.8, 1.3), "#b5a98f"),
         Group("rock", 10, WHOLE, (0.5, 1.5), "#8a8074"),
         Group("bush", 8, WHOLE, (0.5, 1.0), "#5d7f3a"),
         Group("tree", 2, WHOLE, (0.9, 1.2), "#4f7a38")),
        (0.0, 2.0, 0.92), (0.0, 2.0, -0.2)),
    Recipe(
        "farm", {"farm": 6, "farmland": 6, "barn": 6, "ranch": 6, "farmyard": 6, "countryside": 3, "village": 2,
                 "field": 1},
        (80, 80), "grass", "#6f9140", 1.0, 30.0,
        (Group("house", 2, (-0.6, 0.6, -0.8, -0.2), (1.0, 1.3), "#a8382b"),
         Group("fence", 12, WHOLE, (1.0, 1.0), "#8a6a45"),
         Group("hay_bale", 12, WHOLE, (0.9, 1.1), "#d8b54a"),
         Group("tree", 6, WHOLE, (0.9, 1.3), "#4a8a3a"),
         Group("crate", 4, WHOLE, (0.8, 1.0), "#8a6a3f")),
        (0.0, 2.5, 0.92), (0.0, 2.0, -0.2)),
    Recipe(
        "beach", {"beach": 6, "shore": 5, "coast": 5, "seaside": 5, "tropical": 3, "island": 3, "ocean": 3,
                  "sea": 3, "lagoon": 4},
        (60, 60), "sand", "#e8d5a2", 0.5, 15.0,
        (Group("palm", 8, (-0.95, 0.95, 0.1, 0.8), (0.8, 1.3), "#3f8f3f"),
         Group("umbrella", 5, (-0.8, 0.8, 0.15, 0.8), (1.0, 1.0), "#e04a3a"),
         Group("rock", 6, (-0.95, 0.95, 0.05, 0.6), (0.5, 1.3), "#8a8378")),
        (0.0, 4.0, 0.95), (0.0, 0.0, -0.3), water=(-1.0, 1.0, -1.0, 0.0)),
    Recipe(
        "desert", {"desert": 6, "dunes": 6, "dune": 6, "sahara": 6, "cactus": 3, "cacti": 3, "oasis": 3,
                   "canyon": 3, "wasteland": 3},
        (80, 80), "sand", "#d9b56b", 3.0, 28.0,
        (Group("cactus", 14, WHOLE, (0.7, 1.4), "#4f7d3a"),
         Group("rock", 10, WHOLE, (0.6, 2.2), "#a0704a"),
         Group("bush", 6, WHOLE, (0.4, 0.8), "#8a8a4a")),
        (0.0, 3.0, 0.92), (0.0, 1.5, 0.0)),
    Recipe(
        "snowfield", {"snowfield": 6, "snow field": 6, "tundra": 6, "arctic": 6, "glacier": 5, "winter": 3,
                      "frozen": 3, "snow": 2, "ice": 1},
        (70, 70), "snow", "#eef3f7", 2.5, 22.0,
        (Group("pine", 18, WHOLE, (0.8, 1.4), "#2e5a44"),
         Group("rock", 10, WHOLE, (0.5, 1.6), "#6f747a"),
         Group("snowman", 2, (-0.4, 0.4, 0.2, 0.7), (0.9, 1.1), "#f4f7fa")),
        (0.0, 2.5, 0.92), (0.0, 2.0, 0.0), weather="snowy", lighting="cool"),
    Recipe(
        "mountains", {"mountain": 6, "mountains": 6, "peaks": 5, "alpine": 5, "cliffs": 3, "hills": 3,
                      "valley": 3, "highlands": 4},
        (120, 120), "rock", "#6f6a5f", 12.0, 45.0,
        (Group("pine", 24, WHOLE, (0.8, 1.4), "#2c5a3c"),
         Group("rock", 20, WHOLE, (1.0, 3.0), "#7d786e"),
         Group("bush", 10, WHOLE, (0.5, 1.0), "#5b7a3a")),
        (0.0, 6.0, 0.95), (0.0, 4.0, 0.0), 65.0),
    Recipe(
        "park", {"park": 6, "garden": 5, "playground": 5, "pond": 3, "picnic": 3, "courtyard": 3},
        (50, 50), "grass", "#5e9c47", 0.6, 20.0,
        (Group("tree", 12, WHOLE, (0.8, 1.3), "#3f8a3a"),
         Group("bush", 12, WHOLE, (0.5, 1.0), "#5a9a40"),
         Group("bench", 6, WHOLE, (1.0, 1.0), "#7a5533"),
         Group("lamp_post", 5, WHOLE, (0.8, 0.9), "#2d3036", "metal"),
         Group("rock", 4, WHOLE, (0.5, 1.0), "#8a8378")),
        (0.0, 1.8, 0.92), (0.0, 1.5, -0.2), water=(-0.35, 0.35, -0.7, -0.2), water_color="#3c7fa0"),
    Recipe(
        "forest", {"forest": 6, "woods": 6, "woodland": 6, "grove": 4, "jungle": 4, "trees": 2, "wood": 1},
        (60, 60), "grass", "#4b7a36", 1.5, 18.0,
        (Group("tree", 18, (-0.95, 0.95, -0.95, 0.75), (0.8, 1.3), "#3f8a3a"),
         Group("pine", 16, (-0.95, 0.95, -0.95, 0.75), (0.8, 1.4), "#2f5f3a"),
         Group("bush", 18, WHOLE, (0.6, 1.2), "#4f8a3c"),
         Group("rock", 8, WHOLE, (0.5, 1.4), "#7d7a74"),
         Group("mushroom", 10, WHOLE, (0.6, 1.5), "#c0392b")),
        (0.0, 2.2, 0.92), (0.0, 2.0, 0.0)),
    Recipe(
        "grassland", {"grassland": 6, "plains": 5, "prairie": 5, "meadow": 5, "savanna": 5, "steppe": 5},
        (60, 60), "grass", "#69a046", 1.2, 25.0,
        (Group("tree", 5, WHOLE, (0.9, 1.3), "#3f8a3a"),
         Group("bush", 8, WHOLE, (0.5, 1.0), "#5a9a40"),
         Group("rock", 6, WHOLE, (0.5, 1.2), "#8a8378")),
        (0.0, 1.8, 0.92), (0.0, 1.5, 0.0)),
)

DEFAULT_SETTING = "grassland"
BY_NAME: dict[str, Recipe] = {recipe.name: recipe for recipe in RECIPES}
