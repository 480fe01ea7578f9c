"""Synthetic views of a simple solid, rendered on the CPU: the stub image generator's pictures.

They are real pictures of a real object, seen from the azimuths the pipeline asks for and drawn
with the views' camera model (a long lens approximates the orthographic projection), so the
reconstructors downstream get input they can actually reconstruct: a text_to_3d job with stub
images ends with the prompt's solid, carved back from its own silhouettes.
"""

from __future__ import annotations

import hashlib
import io
import math

import numpy as np
import trimesh
from PIL import Image

from shared.assets.views import camera_axes
from shared.geometry.camera import Camera
from shared.geometry.render import render_mesh_thumbnail, srgb_to_linear

FOV_DEG = 3.0
BACKGROUND = (0.97, 0.97, 0.97)  # sRGB, plain: the normaliser cuts the object from it
BLACK = (0.0, 0.0, 0.0)
COLOURS = {"red": (200, 40, 40), "green": (50, 160, 70), "blue": (50, 90, 200), "yellow": (230, 190, 40),
           "orange": (230, 120, 30), "purple": (130, 60, 170), "pink": (230, 110, 160), "brown": (130, 85, 50),
           "black": (40, 40, 40), "grey": (120, 120, 120), "gray": (120, 120, 120), "white": (205, 205, 210)}
SHAPES = {"cube": "box", "box": "box", "crate": "box", "ball": "sphere", "sphere": "sphere", "orb": "sphere",
          "cone": "cone", "cylinder": "cylinder", "can": "cylinder", "barrel": "cylinder", "mug": "cylinder",
          "cup": "cylinder", "vase": "cylinder", "bottle": "cylinder", "tower": "cylinder"}


def _solid(kind: str) -> trimesh.Trimesh:
    """A solid about 1.6 units across, centred on the origin, +Y up."""
    if kind == "box":
        return trimesh.creation.box(extents=(1.3, 1.3, 1.3))
    if kind == "sphere":
        return trimesh.creation.icosphere(subdivisions=3, radius=0.8)
    if kind == "cone":
        cone = trimesh.creation.cone(radius=0.7, height=1.6, sections=48)
        cone.apply_translation((0, 0, -0.8))
        return cone.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    if kind == "cylinder":
        cylinder = trimesh.creation.cylinder(radius=0.55, height=1.5, sections=48)
        return cylinder.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    capsule = trimesh.creation.capsule(height=0.9, radius=0.45, count=(24, 24))
    return capsule.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))


def stub_object(prompt: str, seed: int) -> tuple[trimesh.Trimesh, str]:
    """The solid a prompt names ("a red cube" is a red box; otherwise a capsule), coloured, and its description."""
    words = [w.strip(".,!?;:") for w in prompt.lower().split()]
    kind = next((SHAPES[w] for w in words if w in SHAPES), "capsule")
    colour = next((COLOURS[w] for w in words if w in COLOURS), None)
    if colour is None:
        digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
        colour = tuple(60 + digest[i] % 160 for i in range(3))
    solid = _solid(kind)
    linear = np.round(srgb_to_linear(np.asarray(colour) / 255.0) * 255).astype(np.uint8)
    solid.visual = trimesh.visual.ColorVisuals(solid, face_colors=np.append(linear, 255))
    return solid, f"{kind} {'#{:02x}{:02x}{:02x}'.format(*colour)}"


def render_views(solid: trimesh.Trimesh | trimesh.Scene, azimuths: list[float], size: int,
                 transparent: bool = False) -> list[Image.Image]:
    """The solid (or scene) from each azimuth on the horizon, through a long lens, on a plain background,
    looking at the centre of its bounds.

    ``transparent``: RGBA pictures whose alpha is the object's exact coverage, for thin objects (a sword
    edge-on) that cutting from the background colour would lose. The renderer does not antialias, so a
    second render on black tells every background pixel: it is the background colour in both.
    """
    bounds = np.asarray(solid.bounds, dtype=float)
    centre = bounds.mean(axis=0)
    radius = float(np.linalg.norm(bounds[1] - centre))
    distance = radius / math.sin(math.radians(FOV_DEG) / 2) * 1.05
    pictures = []
    for azimuth in azimuths:
        _, towards = camera_axes(azimuth)
        camera = Camera(tuple((centre + towards * distance).tolist()), tuple(centre.tolist()), FOV_DEG)
        png = render_mesh_thumbnail(solid, size, size, camera, background=(BACKGROUND, BACKGROUND))
        picture = Image.open(io.BytesIO(png)).convert("RGB")
        if transparent:
            dark = np.asarray(Image.open(io.BytesIO(
                render_mesh_thumbnail(solid, size, size, camera, background=(BLACK, BLACK)))).convert("RGB"))
            plain = np.asarray(picture)
            background = np.round(np.asarray(BACKGROUND) * 255)
            covered = (plain != background).any(axis=2) | dark.any(axis=2)
            picture.putalpha(Image.fromarray(covered.astype(np.uint8) * 255))
        pictures.append(picture)
    return pictures
