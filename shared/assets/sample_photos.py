"""Photo-like test pictures whose true subject mask is known: a subject cut from one of scikit-image's
photographs under a known silhouette, shaded like a rounded object, pasted on another photograph.

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
    # A soft contact shadow under the subject, as a real photograph has.
    shadow = ndimage.gaussian_filter(mask.astype(float), size / 60)
    background *= (1 - 0.35 * np.roll(shadow, size // 80, axis=0))[:, :, None]
    picture = background
    picture[top:top + box_h, left:left + box_w][outline] = texture[outline]
    image = Image.fromarray(np.clip(np.round(picture), 0, 255).astype(np.uint8))
    return Composite(f"{subject_name} {shape} on {background_name}", image, mask)
