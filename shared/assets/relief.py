"""The ``relief`` reconstructor's geometry: real meshes from the views on any CPU, in well under a second.

One view: the object's silhouette inflated into a closed solid (``shared.envgen.image_mesh``), its
front also shaped by the picture's shading, textured with the picture itself through planar UVs
(a vertex's UV is where it sits in the view; the unseen back shows the front's picture mirrored).

Several views at known azimuths: the visual hull, the largest solid whose silhouette from every
camera stays inside that view's mask, carved from a voxel grid and meshed by marching cubes. The
masks' soft edges are sampled bilinearly, so the surface sits between voxels, not on their faces.
Each vertex takes its colour from the view that faces it most squarely.
"""

from __future__ import annotations

import numpy as np
import trimesh
from PIL import Image
from scipy import ndimage

from shared.assets.views import View, camera_axes, project
from shared.envgen.image_mesh import inflate
from shared.errors import ProviderError
from shared.geometry.render import srgb_to_linear


def _bled_texture(view: View) -> Image.Image:
    """The view's RGB with the object's edge colours carried outwards over the background.

    Texture filtering at the outline then blends object colours only, not the transparent
    surround (which a viewer would show as a dark or white fringe).
    """
    rgb = np.asarray(view.image.convert("RGB"))
    outside = np.asarray(view.image.getchannel("A")) == 0
    if outside.all() or not outside.any():
        return Image.fromarray(rgb)
    _, (rows, cols) = ndimage.distance_transform_edt(outside, return_indices=True)
    return Image.fromarray(rgb[rows, cols])


def single_view_mesh(view: View, grid: int, shading_depth: float) -> trimesh.Trimesh:
    """A closed, textured solid with the view's outline (within a grid cell), facing the view's camera on +Z.

    A lone view is the front whatever its azimuth: there is nothing to align it with.
    """
    small = view.image.convert("RGBa").resize((grid, grid), Image.Resampling.BOX).convert("RGBA")
    mask = np.asarray(small.getchannel("A")) >= 128
    if not mask.any():
        raise ProviderError(f"{view.name} shows no object to reconstruct")
    rgb = np.asarray(small.convert("RGB"), dtype=float) / 255.0
    solid = inflate(mask, rgb, pixel_size=2.0 / grid, shading_depth=shading_depth)
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=_bled_texture(view), metallicFactor=0.0,
                                                   roughnessFactor=0.9)
    uv = (solid.positions[:, :2] + 1.0) / 2.0
    return trimesh.Trimesh(solid.positions, solid.faces, visual=trimesh.visual.TextureVisuals(uv=uv, material=material),
                           process=False)


def carve(views: list[View], azimuths: list[float], resolution: int) -> np.ndarray:
    """Soft occupancy (N, N, N) indexed [x, y, z] over [-1, 1]^3: the least mask value any view sees there."""
    centres = -1.0 + (np.arange(resolution) + 0.5) * (2.0 / resolution)
    field = np.ones((resolution,) * 3, dtype=np.float32)
    for view, azimuth in zip(views, azimuths, strict=True):
        alpha = np.asarray(view.image.getchannel("A"), dtype=np.float32) / 255.0
        size = alpha.shape[0]
        right, _ = camera_axes(azimuth)
        u = centres[:, None] * right[0] + centres[None, :] * right[2]  # (x, z)
        cols = np.broadcast_to((u + 1.0) / 2.0 * size - 0.5, (resolution,) * 3)  # (y, x, z)
        rows = np.broadcast_to(((1.0 - centres) / 2.0 * size - 0.5)[:, None, None], (resolution,) * 3)
        seen = ndimage.map_coordinates(alpha, [rows.ravel(), cols.ravel()], order=1, mode="constant", cval=0.0)
        np.minimum(field, seen.reshape((resolution,) * 3).transpose(1, 0, 2), out=field)
    return field


def _vertex_colors(vertices: np.ndarray, normals: np.ndarray, views: list[View],
                   azimuths: list[float]) -> np.ndarray:
    """Linear RGBA bytes per vertex, each from the view whose camera its normal faces most."""
    facing = np.stack([normals @ camera_axes(a)[1] for a in azimuths], axis=1)
    best = np.argmax(facing, axis=1)
    colors = np.zeros((len(vertices), 3))
    for number, (view, azimuth) in enumerate(zip(views, azimuths, strict=True)):
        chosen = np.flatnonzero(best == number)
        size = view.image.width
        cols, rows = project(vertices[chosen], azimuth, size)
        picture = view.rgb()
        colors[chosen] = picture[np.clip(rows.astype(int), 0, size - 1), np.clip(cols.astype(int), 0, size - 1)]
    linear = np.round(srgb_to_linear(colors) * 255)
    return np.column_stack([linear, np.full(len(linear), 255)]).astype(np.uint8)


def visual_hull(views: list[View], azimuths: list[float], resolution: int) -> trimesh.Trimesh:
    """The views' visual hull as a closed, vertex-coloured mesh (outward normals)."""
    from skimage.measure import marching_cubes

    field = np.pad(carve(views, azimuths, resolution), 1)
    if field.max() < 0.5:
        raise ProviderError("the views' silhouettes do not overlap: no hull (are the azimuths right?)")
    step = 2.0 / resolution
    vertices, faces, _, _ = marching_cubes(field, 0.5, spacing=(step, step, step))
    vertices = vertices - 1.0 - 0.5 * step
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    if mesh.volume < 0:
        mesh.invert()
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=_vertex_colors(
        mesh.vertices, mesh.vertex_normals, views, azimuths))
    return mesh
