"""Test media made in code: encoded pictures and the frames of a sideways-moving texture."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def moving_pattern(count: int, size: tuple[int, int] = (96, 64), seed: int = 0) -> list[np.ndarray]:
    """``count`` frames of a random texture sliding 4 pixels per frame: features structure from motion can track."""
    rng = np.random.default_rng(seed)
    width, height = size
    texture = (rng.random((height, width * 2, 3)) * 255).astype(np.uint8)
    return [np.ascontiguousarray(texture[:, i * 4:i * 4 + width]) for i in range(count)]


def turntable_photos(azimuths: list[float], size: int = 320) -> list[Image.Image]:
    """Photos of a box papered with scikit-image photographs, taken around it at ``azimuths`` (degrees) on a
    white backdrop by a perspective camera slightly above it: texture enough for structure from motion."""
    import trimesh

    from shared.assets.sample_photos import photo
    from shared.geometry.camera import Camera
    from shared.geometry.render import Lighting, render_mesh_thumbnail, srgb_to_linear

    box = trimesh.creation.box((1.2, 1.6, 1.0))
    for _ in range(6):
        box = box.subdivide()
    vertices, normals = box.vertices, box.vertex_normals
    half = np.array([0.6, 0.8, 0.5])
    colours = np.zeros((len(vertices), 3))
    facing = np.argmax(np.abs(normals), axis=1)
    names = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")
    for face, name in enumerate(names):
        axis, sign = face // 2, 1 - 2 * (face % 2)
        chosen = (facing == axis) & (np.sign(normals[:, axis]) == sign)
        u_axis, v_axis = [a for a in range(3) if a != axis]
        picture = photo(name)
        height, width = picture.shape[:2]
        u = (vertices[chosen, u_axis] / half[u_axis] + 1) / 2
        v = (1 - vertices[chosen, v_axis] / half[v_axis]) / 2
        colours[chosen] = picture[np.clip((v * (height - 1)).astype(int), 0, height - 1),
                                  np.clip((u * (width - 1)).astype(int), 0, width - 1)]
    linear = np.round(srgb_to_linear(colours / 255) * 255)
    rgba = np.column_stack([linear, np.full(len(linear), 255)]).astype(np.uint8)
    box.visual = trimesh.visual.ColorVisuals(box, vertex_colors=rgba)
    photos = []
    for azimuth in azimuths:
        angle = np.radians(azimuth)
        camera = Camera((4 * np.sin(angle), 0.6, 4 * np.cos(angle)), (0.0, 0.0, 0.0), 35)
        png = render_mesh_thumbnail(box, size, size, camera, lighting=Lighting(ambient=(0.7, 0.7, 0.7)),
                                    background=((1.0, 1.0, 1.0), (1.0, 1.0, 1.0)))
        photos.append(Image.open(io.BytesIO(png)).convert("RGB"))
    return photos
