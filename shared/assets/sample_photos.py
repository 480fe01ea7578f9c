"""Photo-like test pictures whose true subject mask is known: a subject cut from one of scikit-image's
photographs under a known silhouette, shaded like a rounded object, pasted on another photograph
(``composite``), or a model of an object factory rendered onto one (``object_photo``).

Segmentation can only be measured against a known answer, and real photographs come without one;
these composites keep the clutter of real photos (brick, grass, gravel, a café table) on both sides
of the outline. The tests, ``make bench`` and ``make demo`` draw from the same set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

SUBJECT_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")
BACKGROUND_PHOTOS = ("brick", "grass", "gravel", "coffee", "hubble_deep_field")
SHAPES = ("blob", "ellipse", "horse", "squircle")
# Greyscale backgrounds are tinted like the material they show, so the subject cannot stand out by colour alone.
OBJECT_FILL = 0.8  # a rendered object's frame, as a share of the picture's side
TINTS = {"brick": (1.0, 0.62, 0.48), "grass": (0.55, 0.85, 0.4), "gravel": (0.9, 0.88, 0.82)}


@dataclass
class Composite:
    """An RGB picture and the true mask of its subject (True inside), same size."""

    name: str
    image: Image.Image
    mask: np.ndarray


def photo(name: str) -> np.ndarray:
    """One of scikit-image's bundled photographs as (H, W, 3) uint8; greyscale ones tinted."""
    from skimage import data

    pixels = getattr(data, name)()
    if pixels.ndim == 2:
        tint = np.asarray(TINTS.get(name, (1.0, 1.0, 1.0)))
        pixels = np.clip(pixels[:, :, None] * tint, 0, 255).astype(np.uint8)
    return pixels


def _fit(pixels: np.ndarray, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A ``width`` x ``height`` crop of the photo, scaled up first when it is too small, from a random offset."""
    h, w = pixels.shape[:2]
    scale = max(width / w, height / h) * rng.uniform(1.0, 1.3)
    image = Image.fromarray(pixels).resize((math.ceil(w * scale), math.ceil(h * scale)), Image.Resampling.BICUBIC)
    left = int(rng.integers(0, image.width - width + 1))
    top = int(rng.integers(0, image.height - height + 1))
    return np.asarray(image)[top:top + height, left:left + width]


def silhouette(shape: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A subject outline filling most of a ``width`` x ``height`` box (bool)."""
    rows, cols = np.mgrid[0:height, 0:width]
    y, x = (rows + 0.5) / height * 2 - 1, (cols + 0.5) / width * 2 - 1
    if shape == "ellipse":
        return x**2 + y**2 <= 0.95**2
    if shape == "squircle":
        return np.abs(x) ** 4 + np.abs(y) ** 4 <= 0.9
    if shape == "blob":
        angle, radius = np.arctan2(y, x), np.hypot(x, y)
        phases = rng.uniform(0, 2 * math.pi, 3)
        outline = 0.72 + sum(0.08 / k * np.cos(k * angle + p) for k, p in zip((2, 3, 5), phases, strict=True))
        return radius <= outline
    if shape == "horse":
        from skimage import data

        horse = ~data.horse()  # scikit-image draws the horse black on white
        fitted = Image.fromarray(horse.astype(np.uint8) * 255).resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(fitted) >= 128
    raise ValueError(f"unknown shape {shape!r} (known: {', '.join(SHAPES)})")


def composite(number: int, size: int = 1024) -> Composite:
    """The ``number``-th picture of the set (deterministic): subjects, shapes and backgrounds taken in turn."""
    rng = np.random.default_rng(number)
    subject_name = SUBJECT_PHOTOS[number % len(SUBJECT_PHOTOS)]
    background_name = BACKGROUND_PHOTOS[(number // len(SUBJECT_PHOTOS) + number) % len(BACKGROUND_PHOTOS)]
    if background_name == subject_name:
        background_name = BACKGROUND_PHOTOS[(BACKGROUND_PHOTOS.index(background_name) + 1) % len(BACKGROUND_PHOTOS)]
    shape = SHAPES[number % len(SHAPES)]
    width, height = size, int(size * rng.choice([0.75, 1.0]))
    background = _fit(photo(background_name), width, height, rng).astype(float)

    box_w, box_h = int(width * rng.uniform(0.35, 0.6)), int(height * rng.uniform(0.4, 0.7))
    outline = silhouette(shape, box_w, box_h, rng)
    texture = _fit(photo(subject_name), box_w, box_h, rng).astype(float)
    # Rounded-object shading: darker towards the outline, lit from the upper left.
    inside = ndimage.distance_transform_edt(outline)
    bulge = np.sqrt(np.clip(inside / max(float(inside.max()), 1.0), 0, 1))
    rows, cols = np.mgrid[0:box_h, 0:box_w]
    light = 0.85 + 0.15 * (1 - (rows / box_h + cols / box_w) / 2)
    texture *= (0.55 + 0.45 * bulge * light)[:, :, None]

    left = int(rng.integers(width // 10, width - box_w - width // 10))
    top = int(rng.integers(height // 10, height - box_h - height // 10))
    mask = np.zeros((height, width), dtype=bool)
    mask[top:top + box_h, left:left + box_w] = outline
    subject = np.zeros_like(background)
    subject[top:top + box_h, left:left + box_w] = texture
    return Composite(f"{subject_name} {shape} on {background_name}", _pasted(background, subject, mask), mask)


def _pasted(background: np.ndarray, subject: np.ndarray, mask: np.ndarray) -> Image.Image:
    """The subject's pixels (float RGB, picture-sized) where ``mask`` holds, over the background with a soft
    contact shadow under the subject, as a real photograph has."""
    size = max(mask.shape)
    shadow = ndimage.gaussian_filter(mask.astype(float), size / 60)
    picture = background * (1 - 0.35 * np.roll(shadow, size // 80, axis=0))[:, :, None]
    picture[mask] = subject[mask]
    return Image.fromarray(np.clip(np.round(picture), 0, 255).astype(np.uint8))


def object_photo(category: str, background_name: str, size: int = 768, seed: int = 0,
                 azimuth_deg: float = 30.0) -> Composite:
    """A picture of one of the object factories' models (``shared.objects``), rendered from ``azimuth_deg``
    and set on a photograph, its true mask known: a solid object, which a photo cut under an outline
    is not. The bundled photographs hold no object a single view can be modelled from whole."""
    from shared.assets.stub_views import render_views
    from shared.objects.base import build, default_spec

    rng = np.random.default_rng(seed)
    background = _fit(photo(background_name), size, size, rng).astype(float)
    side = round(OBJECT_FILL * size)  # the render frames the model's bounding sphere: leave the photo a margin
    view = render_views(build(default_spec(category, seed)).to_scene(), [azimuth_deg], side, transparent=True)[0]
    left, top = int(rng.integers(size // 20, size - side - size // 20 + 1)), (size - side) // 2
    pixels = np.zeros_like(background)
    pixels[top:top + side, left:left + side] = np.asarray(view, dtype=float)[:, :, :3]
    mask = np.zeros((size, size), dtype=bool)
    mask[top:top + side, left:left + side] = np.asarray(view)[:, :, 3] >= 128
    return Composite(f"{category.replace('_', ' ')} on {background_name}", _pasted(background, pixels, mask), mask)
