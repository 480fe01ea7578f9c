"""Carrying colour from a detailed mesh to its decimated copy: vertex colours, or a texture re-baked on a new atlas.

Decimation moves and merges vertices, so the source's UVs and colours do not survive it. Vertex
colours are taken from the nearest source vertex. A texture is re-baked: xatlas unwraps the new
mesh, and every texel of the new atlas looks up the point of the source surface nearest to it,
reads that point's UV and samples the source texture there.
"""

from __future__ import annotations

import numpy as np
import trimesh
from PIL import Image
from scipy import ndimage
from scipy.spatial import cKDTree

from shared.geometry.raster import rasterize

CHUNK = 262_144  # texels per batch of surface look-ups (bounds the memory of the candidate search)


def texture_image(mesh: trimesh.Trimesh) -> Image.Image | None:
    """The base-colour texture of a UV-mapped mesh, or None when it has none."""
    visual = mesh.visual
    if visual.kind != "texture" or getattr(visual, "uv", None) is None:
        return None
    material = visual.material
    return getattr(material, "baseColorTexture", None) or getattr(material, "image", None)


def transfer_vertex_colors(source: trimesh.Trimesh, target: trimesh.Trimesh) -> None:
    """Give ``target`` the colour of the nearest ``source`` vertex, for every one of its vertices."""
    _, nearest = cKDTree(source.vertices).query(target.vertices)
    target.visual = trimesh.visual.ColorVisuals(target, vertex_colors=source.visual.vertex_colors[nearest])


def _clamped_barycentric(points: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Barycentric weights of each point's projection onto its triangle, clamped into the triangle."""
    v0, v1, v2 = b - a, c - a, points - a
    d00, d01, d11 = (v0 * v0).sum(1), (v0 * v1).sum(1), (v1 * v1).sum(1)
    d20, d21 = (v2 * v0).sum(1), (v2 * v1).sum(1)
    denominator = np.where(np.abs(d00 * d11 - d01 * d01) > 1e-20, d00 * d11 - d01 * d01, 1e-20)
    v = (d11 * d20 - d01 * d21) / denominator
    w = (d00 * d21 - d01 * d20) / denominator
    weights = np.clip(np.stack([1.0 - v - w, v, w], axis=1), 0.0, None)
    return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-20)


def surface_uv(source: trimesh.Trimesh, points: np.ndarray, tree: cKDTree, corner_uv: np.ndarray) -> np.ndarray:
    """The source UV at the point of the source surface nearest each point (searched around the nearest vertex).

    ``tree`` (over the source's vertices) and ``corner_uv`` (its UVs per face corner) are built once by
    the caller: rebuilding them for every batch of texels cost as much as the lookups."""
    _, nearest = tree.query(points)
    candidates = source.vertex_faces[nearest]
    triangles = source.triangles
    best = np.full(len(points), np.inf)
    uv = np.zeros((len(points), 2))
    for column in candidates.T:
        valid = np.flatnonzero(column >= 0)
        face = column[valid]
        tri = triangles[face]
        weights = _clamped_barycentric(points[valid], tri[:, 0], tri[:, 1], tri[:, 2])
        distance = np.linalg.norm(np.einsum("pk,pkc->pc", weights, tri) - points[valid], axis=1)
        closer = distance < best[valid]
        best[valid[closer]] = distance[closer]
        uv[valid[closer]] = np.einsum("pk,pkc->pc", weights[closer], corner_uv[face[closer]])
    return uv


def _sample(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear samples (P, C) of a texture (H, W, C) at UVs (v up, wrapping like glTF's default sampler)."""
    height, width = texture.shape[:2]
    rows = ((1.0 - uv[:, 1]) % 1.0) * height - 0.5
    cols = (uv[:, 0] % 1.0) * width - 0.5
    return np.stack([ndimage.map_coordinates(texture[:, :, ch], [rows, cols], order=1, mode="nearest")
                     for ch in range(texture.shape[2])], axis=1)


def rebake(source: trimesh.Trimesh, target: trimesh.Trimesh, size: int) -> trimesh.Trimesh:
    """``target``'s geometry on a fresh xatlas atlas, with a ``size``-square texture baked from ``source``."""
    import xatlas

    vmap, faces, uv = xatlas.parametrize(np.ascontiguousarray(target.vertices, dtype=np.float32),
                                         np.ascontiguousarray(target.faces, dtype=np.uint32))
    positions = np.asarray(target.vertices)[vmap]
    corners = np.stack([uv[faces][:, :, 0] * size, (1.0 - uv[faces][:, :, 1]) * size], axis=2)
    triangle, weights = rasterize(corners, np.ones(corners.shape[:2]), size, size)
    texels = np.flatnonzero(triangle >= 0)
    source_pixels = np.asarray(texture_image(source).convert("RGB"), dtype=np.float32)
    baked = np.zeros((size * size, 3), dtype=np.float32)
    tree, corner_uv = cKDTree(source.vertices), np.asarray(source.visual.uv)[source.faces]
    for start in range(0, len(texels), CHUNK):
        chunk = texels[start:start + CHUNK]
        points = np.einsum("pk,pkc->pc", weights[chunk], positions[faces[triangle[chunk]]])
        baked[chunk] = _sample(source_pixels, surface_uv(source, points, tree, corner_uv))
    empty = np.ones(size * size, dtype=bool)
    empty[texels] = False
    image = baked.reshape(size, size, 3)
    if empty.any() and not empty.all():
        # pad every chart with its edge colours, so filtering and mip-maps do not pull in black
        _, (rows, cols) = ndimage.distance_transform_edt(empty.reshape(size, size), return_indices=True)
        image = image[rows, cols]
    texture = Image.fromarray(np.clip(np.round(image), 0, 255).astype(np.uint8))
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=texture, metallicFactor=0.0, roughnessFactor=0.9)
    return trimesh.Trimesh(positions, faces.astype(np.int64), process=False,
                           visual=trimesh.visual.TextureVisuals(uv=uv, material=material))
