"""Closed, outward-facing solids the factories assemble: lathes, swept tubes, prisms, bumpy blobs.

trimesh's own primitives (box, cylinder, icosphere, cone, torus) are used as they are; these add
the shapes it lacks, built so that each is watertight with consistent outward winding: a lathe's
profile starts and ends on its axis, a tube and a prism are capped. Everything is in metres, +Y up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import trimesh

Z_TO_Y = trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0))


def lathe(profile: Sequence[tuple[float, float]], sections: int) -> trimesh.Trimesh:
    """A surface of revolution about +Y from ``(radius, height)`` points, from the axis back to the axis.

    The first and last points are moved onto the axis when they are not, so the solid is closed; a
    profile that goes up the outside and back down the inside makes a hollow vessel.
    """
    points = [(float(r), float(y)) for r, y in profile]
    if points[0][0] != 0.0:
        points.insert(0, (0.0, points[0][1]))
    if points[-1][0] != 0.0:
        points.append((0.0, points[-1][1]))
    mesh = trimesh.creation.revolve(np.asarray(points), sections=sections)
    mesh.apply_transform(Z_TO_Y)
    if mesh.volume < 0:  # the profile ran top to bottom: same solid, turned inside out
        mesh.invert()
    return mesh


def _frames(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors normal to the path at every point, carried along without twisting."""
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    helper = np.array([0.0, 1.0, 0.0]) if abs(tangents[0][1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    first = np.cross(tangents[0], helper)
    normals = [first / np.linalg.norm(first)]
    for tangent in tangents[1:]:
        n = normals[-1] - tangent * float(normals[-1] @ tangent)
        normals.append(n / np.linalg.norm(n))
    normals_array = np.asarray(normals)
    return normals_array, np.cross(tangents, normals_array)


def tube(path: Sequence[Sequence[float]], radius: float | Sequence[float], sections: int) -> trimesh.Trimesh:
    """A capped tube swept along a polyline (handles, trunks, arms); ``radius`` may vary along it."""
    points = np.asarray(path, dtype=float)
    radii = np.broadcast_to(np.asarray(radius, dtype=float), (len(points),))
    normals, binormals = _frames(points)
    angles = np.linspace(0.0, 2 * math.pi, sections, endpoint=False)
    rings = points[:, None, :] + radii[:, None, None] * (
        np.cos(angles)[None, :, None] * normals[:, None, :] + np.sin(angles)[None, :, None] * binormals[:, None, :]
    )
    vertices = np.concatenate([rings.reshape(-1, 3), points[[0, -1]]])
    count, start_cap, end_cap = len(points), len(points) * sections, len(points) * sections + 1
    faces = []
    for i in range(count - 1):
        for j in range(sections):
            a, b = i * sections + j, i * sections + (j + 1) % sections
            c, d = a + sections, b + sections
            faces += [(a, b, d), (a, d, c)]
    last = (count - 1) * sections
    for j in range(sections):
        faces.append((start_cap, (j + 1) % sections, j))
        faces.append((end_cap, last + j, last + (j + 1) % sections))
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def prism(outline: Sequence[tuple[float, float]], depth: float) -> trimesh.Trimesh:
    """A convex outline in the XY plane extruded along Z, centred on z = 0 (blades, shields, gables)."""
    ring = np.asarray(outline, dtype=float)
    n = len(ring)
    front = np.column_stack([ring, np.full(n, depth / 2)])
    back = np.column_stack([ring, np.full(n, -depth / 2)])
    centre = ring.mean(axis=0)
    vertices = np.concatenate([front, back, [[*centre, depth / 2], [*centre, -depth / 2]]])
    faces = []
    for i in range(n):
        j = (i + 1) % n
        faces += [(j, i, n + i), (j, n + i, n + j), (2 * n, i, j), (2 * n + 1, n + j, n + i)]
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def blob(
    radius: float,
    subdivisions: int,
    rng: np.random.Generator,
    bumps: float,
    squash: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> trimesh.Trimesh:
    """An icosphere pushed in and out along its normals by smooth noise (rocks, foliage, bushes)."""
    sphere = trimesh.creation.icosphere(subdivisions, 1.0)
    directions = sphere.vertices
    waves = rng.normal(size=(4, 3))
    phases = rng.uniform(0, 2 * math.pi, 4)
    noise = sum(np.sin(directions @ (w * 2.2) + p) for w, p in zip(waves, phases, strict=True)) / 4
    vertices = directions * (radius * (1 + bumps * noise))[:, None] * np.asarray(squash)
    return trimesh.Trimesh(vertices, sphere.faces, process=False)


def cylindrical_uv(mesh: trimesh.Trimesh) -> np.ndarray:
    """UVs in [0, 1]: the angle around the part's vertical axis and the height within the part."""
    low, high = mesh.bounds
    centre = (low + high) / 2
    offset = mesh.vertices - centre
    u = (np.arctan2(offset[:, 0], offset[:, 2]) / (2 * math.pi)) % 1.0
    v = (mesh.vertices[:, 1] - low[1]) / max(float(high[1] - low[1]), 1e-9)
    return np.column_stack([u, v])
