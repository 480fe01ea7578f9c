"""Scattering props without overlap: reject-sample positions against the XZ boxes already taken.

Every prop's footprint is the XZ bounding box of its turned and scaled mesh bounds, plus a gap, so
no two props' boxes can intersect; a prop that finds no free spot in a bounded number of tries is
dropped (fewer props rather than overlapping ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GAP_M = 0.1
ATTEMPTS = 40


def yaw_quaternion(yaw: float) -> tuple[float, float, float, float]:
    """Rotation about +Y as a glTF quaternion (x, y, z, w)."""
    return (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))


def footprint(bounds: np.ndarray, yaw: float, scale: float) -> np.ndarray:
    """XZ box (x_min, z_min, x_max, z_max) around the origin of 3D ``bounds`` turned by ``yaw``, scaled."""
    (x0, _, z0), (x1, _, z1) = bounds
    corners = np.array([[x0, z0], [x0, z1], [x1, z0], [x1, z1]])
    c, s = math.cos(yaw), math.sin(yaw)
    # rotating (x, z) about +Y: x' = x cos + z sin, z' = -x sin + z cos
    turned = np.stack([corners[:, 0] * c + corners[:, 1] * s, -corners[:, 0] * s + corners[:, 1] * c], axis=1)
    turned *= scale
    return np.concatenate([turned.min(axis=0), turned.max(axis=0)])


@dataclass
class Placement:
    x: float
    z: float
    yaw: float
    scale: float
    variant: int
    box: np.ndarray  # world XZ box


class Placer:
    """The XZ boxes taken so far (props and blocked areas such as water or the camera's spot)."""

    def __init__(self, capacity: int = 512) -> None:
        self._boxes = np.empty((capacity, 4))
        self._count = 0

    def block(self, box: tuple[float, float, float, float] | np.ndarray) -> None:
        if self._count == len(self._boxes):
            self._boxes = np.concatenate([self._boxes, np.empty_like(self._boxes)])
        self._boxes[self._count] = box
        self._count += 1

    def free(self, box: np.ndarray) -> bool:
        taken = self._boxes[: self._count]
        hits = ((box[0] < taken[:, 2] + GAP_M) & (taken[:, 0] < box[2] + GAP_M)
                & (box[1] < taken[:, 3] + GAP_M) & (taken[:, 1] < box[3] + GAP_M))
        return not hits.any()

    def place(self, rng: np.random.Generator, region: tuple[float, float, float, float],
              variant_bounds: list[np.ndarray], scale_range: tuple[float, float], turns: int) -> Placement | None:
        """A free spot for one prop inside ``region`` (x_min, z_min, x_max, z_max), or None.

        ``turns`` > 0 limits the heading to that many evenly spaced ones (streets, walls); 0 turns freely.
        """
        rx0, rz0, rx1, rz1 = region
        for _ in range(ATTEMPTS):
            variant = int(rng.integers(len(variant_bounds)))
            scale = float(rng.uniform(*scale_range))
            yaw = float(rng.integers(turns)) * 2 * math.pi / turns if turns else float(rng.uniform(0, 2 * math.pi))
            local = footprint(variant_bounds[variant], yaw, scale)
            # the whole footprint must lie in the region: sample the origin where that holds
            x_low, x_high = rx0 - local[0], rx1 - local[2]
            z_low, z_high = rz0 - local[1], rz1 - local[3]
            if x_low > x_high or z_low > z_high:
                continue
            x, z = float(rng.uniform(x_low, x_high)), float(rng.uniform(z_low, z_high))
            box = local + np.array([x, z, x, z])
            if self.free(box):
                self.block(box)
                return Placement(x, z, yaw, scale, variant, box)
        return None
