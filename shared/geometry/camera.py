"""A look-at pinhole camera, shared by the thumbnail renderer and the GLB writers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Camera:
    """Looks from ``position`` at ``target`` with +Y up; ``fov_deg`` is the vertical field of view."""

    position: Vec3
    target: Vec3
    fov_deg: float = 50.0

    def basis(self) -> np.ndarray:
        """Rows: right, up, forward (world space). Camera space is x right, y up, z forward (depth)."""
        forward = np.subtract(self.target, self.position, dtype=float)
        forward /= np.linalg.norm(forward)
        up = np.array([0.0, 1.0, 0.0]) if abs(forward[1]) < 0.999 else np.array([0.0, 0.0, -1.0])
        right = np.cross(forward, up)
        right /= np.linalg.norm(right)
        return np.stack([right, np.cross(right, forward), forward])

    def quaternion(self) -> tuple[float, float, float, float]:
        """glTF node rotation (x, y, z, w) for this view: a glTF camera looks down its local -Z."""
        right, up, forward = self.basis()
        return quaternion_from_axes(right, up, -forward)


def quaternion_from_axes(x_axis: np.ndarray, y_axis: np.ndarray, z_axis: np.ndarray) -> tuple[float, ...]:
    """Unit quaternion (x, y, z, w) of the rotation whose matrix columns are the given axes."""
    m = np.stack([x_axis, y_axis, z_axis], axis=1)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s)
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = (0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s)
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = ((m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = ((m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s)
    norm = math.sqrt(sum(c * c for c in q))
    return tuple(float(c / norm) for c in q)


def direction_quaternion(direction: Vec3) -> tuple[float, ...]:
    """Rotation turning local -Z onto ``direction`` (how glTF orients directional and spot lights)."""
    forward = np.asarray(direction, dtype=float)
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 1.0, 0.0]) if abs(forward[1]) < 0.999 else np.array([1.0, 0.0, 0.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    return quaternion_from_axes(right, np.cross(right, forward), -forward)


def frame_bounds(bounds: np.ndarray, aspect: float, fov_deg: float = 40.0,
                 direction: Vec3 = (0.8, 0.65, 1.2)) -> Camera:
    """A camera that sees the whole box ``bounds`` (2x3) from a three-quarter view above the front."""
    low, high = np.asarray(bounds, dtype=float)
    center = (low + high) / 2
    radius = max(float(np.linalg.norm(high - low)) / 2, 1e-6)
    half_v = math.radians(fov_deg) / 2
    half = min(half_v, math.atan(math.tan(half_v) * aspect))
    distance = radius / math.sin(half) * 1.02
    offset = np.asarray(direction, dtype=float)
    position = center + offset / np.linalg.norm(offset) * distance
    return Camera(tuple(position.tolist()), tuple(center.tolist()), fov_deg)
