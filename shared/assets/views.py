"""Normalised views and the camera model the reconstructors assume for them.

The model is deliberately simple, so that every reconstructor reads a view the same way: a view
shows the cube [-1, 1]^3 by orthographic projection along the horizon from azimuth ``a``
(the camera at (sin a, 0, cos a), looking at the origin, +Y up), the picture's side spanning the
cube's. Azimuth 0 is the front (the camera on +Z); azimuths grow from +Z towards +X. Generated
views are rendered that way; photographs of a turntable are close to it once they share one crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

VIEWS_DIR = "views"
VIEWS_INDEX = "views.json"
ALPHA_SOLID = 128  # alpha at or above this is the object


@dataclass
class View:
    """One normalised picture (square RGBA) and where it was seen from (None: not known)."""

    name: str
    image: Image.Image
    azimuth_deg: float | None = None

    def mask(self) -> np.ndarray:
        """The object's silhouette: (S, S) bool."""
        return np.asarray(self.image.getchannel("A")) >= ALPHA_SOLID

    def on_white(self) -> Image.Image:
        """The picture flattened onto white (RGB): what single-image 3D models are trained on."""
        flat = Image.new("RGB", self.image.size, (255, 255, 255))
        flat.paste(self.image, mask=self.image.getchannel("A"))
        return flat

    def rgb(self) -> np.ndarray:
        """sRGB colours in 0..1: (S, S, 3)."""
        return np.asarray(self.image.convert("RGB"), dtype=float) / 255.0


def mask_centre(view: View) -> tuple[float, float]:
    """World (x, y) of the centre of the view's mask's bounding box: where a lone view's model is centred from."""
    rows, cols = np.nonzero(view.mask())
    if len(rows) == 0:
        return 0.0, 0.0
    size = view.image.width
    x = (cols.min() + cols.max() + 1) / size - 1.0
    y = 1.0 - (rows.min() + rows.max() + 1) / size
    return float(x), float(y)


def view_name(number: int) -> str:
    return f"view_{number}.png"


def mask_name(number: int) -> str:
    """The artifact name (under ``views/``) of the mask a view was cut with, at working size in the picture's shape."""
    return f"mask_{number}.png"


def even_azimuths(count: int) -> list[float]:
    """``count`` azimuths evenly around the object, starting at the front."""
    return [360.0 * i / count for i in range(count)]


def camera_axes(azimuth_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The picture's right direction and the direction towards the camera, in world space."""
    a = math.radians(azimuth_deg)
    return np.array([math.cos(a), 0.0, -math.sin(a)]), np.array([math.sin(a), 0.0, math.cos(a)])


def project(points: np.ndarray, azimuth_deg: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Continuous pixel coordinates (column, row) of world points in a ``size``-pixel view."""
    right, _ = camera_axes(azimuth_deg)
    u = points @ right
    return (u + 1.0) / 2.0 * size, (1.0 - points[:, 1]) / 2.0 * size


def resolved_azimuths(views: list[View], override: list[float] | None) -> list[float]:
    """Azimuths for every view: the request's, else the views' own, else evenly spaced."""
    if override is not None:
        if len(override) != len(views):
            raise ValueError(f"{len(override)} azimuths given for {len(views)} views")
        return [float(a) for a in override]
    known = [view.azimuth_deg for view in views]
    if all(a is not None for a in known):
        return [float(a) for a in known]  # type: ignore[arg-type]
    return even_azimuths(len(views))


def index_entry(view: View, **facts: Any) -> dict[str, Any]:
    """A view's line in ``views.json``: name, azimuth and how it was made (source, crop, background)."""
    return {"name": view.name, "azimuth_deg": view.azimuth_deg, "size": view.image.width, **facts}
