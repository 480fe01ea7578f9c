"""Terrain: a heightfield grid from seeded fractal value noise, and exact heights on its triangles.

The noise lattice depends on the seed and the ground's size, never on the grid resolution, so a
budget-reduced terrain keeps the same hills, only coarser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.schemas.scene_plan import Ground

OCTAVES = 4
WATER_RAMP_M = 3.0


def _smooth(t: np.ndarray) -> np.ndarray:
    return t * t * (3 - 2 * t)


def fractal_noise(rng: np.random.Generator, width: float, depth: float, feature: float,
                  x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Value noise in about [-1, 1] at points (x, z) of a ``width`` x ``depth`` ground centred on 0."""
    total = np.zeros(np.broadcast(x, z).shape)
    norm = 0.0
    for octave in range(OCTAVES):
        freq = 2.0**octave / feature
        nx, nz = int(np.ceil(width * freq)) + 2, int(np.ceil(depth * freq)) + 2
        lattice = rng.uniform(-1.0, 1.0, (nz, nx))
        u, v = (x + width / 2) * freq, (z + depth / 2) * freq
        i, j = np.clip(np.floor(u).astype(int), 0, nx - 2), np.clip(np.floor(v).astype(int), 0, nz - 2)
        fu, fv = _smooth(np.clip(u - i, 0, 1)), _smooth(np.clip(v - j, 0, 1))
        top = lattice[j, i] * (1 - fu) + lattice[j, i + 1] * fu
        bottom = lattice[j + 1, i] * (1 - fu) + lattice[j + 1, i + 1] * fu
        amplitude = 0.5**octave
        total += amplitude * (top * (1 - fv) + bottom * fv)
        norm += amplitude
    return total / norm


def _water_dip(ground: Ground, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """0 outside the water, rising to 1 a few metres inside its rectangle."""
    if ground.water is None:
        return np.zeros_like(x)
    r = ground.water.region
    half_w, half_d = ground.width / 2, ground.depth / 2
    # an edge on the ground's border is no shore: the water runs off the map there
    edges = ((x - r.x_min, r.x_min <= -half_w), (r.x_max - x, r.x_max >= half_w),
             (z - r.z_min, r.z_min <= -half_d), (r.z_max - z, r.z_max >= half_d))
    inside = np.min([np.full_like(x, np.inf) if open_edge else d for d, open_edge in edges], axis=0)
    return _smooth(np.clip(inside / WATER_RAMP_M, 0.0, 1.0))


@dataclass
class Terrain:
    xs: np.ndarray  # (n+1,) grid x coordinates
    zs: np.ndarray  # (n+1,) grid z coordinates
    heights: np.ndarray  # (n+1, n+1) indexed [z, x]
    shading: np.ndarray  # (n+1, n+1) colour modulation in 0..1

    @property
    def cells(self) -> int:
        return len(self.xs) - 1

    def height_at(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Heights on the mesh's own triangles (split along the cell diagonal), so props sit on it."""
        x, z = np.asarray(x, dtype=float), np.asarray(z, dtype=float)
        n = self.cells
        u = (x - self.xs[0]) / (self.xs[-1] - self.xs[0]) * n
        v = (z - self.zs[0]) / (self.zs[-1] - self.zs[0]) * n
        i, j = np.clip(np.floor(u).astype(int), 0, n - 1), np.clip(np.floor(v).astype(int), 0, n - 1)
        fu, fv = np.clip(u - i, 0, 1), np.clip(v - j, 0, 1)
        h = self.heights
        h00, h10, h01, h11 = h[j, i], h[j, i + 1], h[j + 1, i], h[j + 1, i + 1]
        lower = h00 + fu * (h10 - h00) + fv * (h01 - h00)
        upper = h11 + (1 - fu) * (h01 - h11) + (1 - fv) * (h10 - h11)
        return np.where(fu + fv <= 1, lower, upper)

    def mesh_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Positions, faces (counter-clockwise seen from above), unit normals, RGBA modulation bytes."""
        n = self.cells
        gx, gz = np.meshgrid(self.xs, self.zs)
        positions = np.stack([gx, self.heights, gz], axis=-1).reshape(-1, 3)
        dz, dx = np.gradient(self.heights, self.zs, self.xs)
        normals = np.stack([-dx, np.ones_like(dx), -dz], axis=-1).reshape(-1, 3)
        normals = (normals / np.linalg.norm(normals, axis=1, keepdims=True)).astype(np.float32)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)  # unit again after the float32 rounding
        idx = np.arange((n + 1) * (n + 1)).reshape(n + 1, n + 1)
        v00, v10, v01, v11 = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
        faces = np.concatenate([np.stack([v00, v01, v10], -1).reshape(-1, 3),
                                np.stack([v10, v01, v11], -1).reshape(-1, 3)])
        grey = np.round(self.shading.reshape(-1) * 255).astype(np.uint8)
        colors = np.stack([grey, grey, grey, np.full_like(grey, 255)], axis=-1)
        return positions, faces, normals, colors


def make_terrain(ground: Ground, seed: int, cells: int) -> Terrain:
    """The terrain of ``ground`` on a ``cells`` x ``cells`` grid; heights are 0 where there is no relief."""
    rng = np.random.default_rng([seed, 1])
    xs = np.linspace(-ground.width / 2, ground.width / 2, cells + 1)
    zs = np.linspace(-ground.depth / 2, ground.depth / 2, cells + 1)
    gx, gz = np.meshgrid(xs, zs)
    relief = fractal_noise(rng, ground.width, ground.depth, ground.relief_scale, gx, gz)
    detail = fractal_noise(rng, ground.width, ground.depth, 2.5, gx, gz)
    dip = _water_dip(ground, gx, gz)
    if ground.water is not None:  # keep land above the water line (y=0), sink it under the water
        heights = ground.relief * 0.5 * (relief + 1) + 0.15 - dip * (ground.relief + 1.0)
    else:
        heights = ground.relief * relief
    shading = np.clip(0.86 + 0.1 * detail + 0.05 * relief, 0.0, 1.0)
    return Terrain(xs, zs, heights, shading)
