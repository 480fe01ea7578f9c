"""The ``relief`` reconstructor's geometry: real meshes from the views on any CPU, in well under a second.

One view: the object's silhouette inflated into a smooth closed body by a Poisson solve (depth
grows like sqrt(h), ∇²h = -c inside the outline), levelled off towards a plateau so that a round
outline gives a pebble with rounded edges rather than an egg, its front also shaped by the
picture's (smoothed) shading; one texture holds the photo for the front and a blurred, shaded
estimate for the unseen back, both through planar UVs (a vertex's UV is where it sits in the view).
Planar UVs stretch the photo's last pixels over the steep sides, so there the texture fades from
the photo to the back's colours: the sides carry the object's colours, not streaks of its outline.

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

from shared.assets.views import View, camera_axes, mask_centre, project
from shared.envgen.image_mesh import front_sheet, shading_factor
from shared.errors import ProviderError
from shared.geometry.render import srgb_to_linear

PRESSURE = 4.0  # the Poisson right-hand side that makes sqrt(h) of a disc a hemisphere
RIM_REACH = 1.0  # rim vertices move at most this many grid cells onto the outline
SMOOTHING_CELLS = 4.0  # smoothness 1 blurs the outline by this many grid cells (sigma)
BACK_BLUR = 48.0  # the back estimate is blurred by the texture's side over this
BACK_SHADE = 0.8  # and darkened by this factor, as the side away from the light
PLATEAU_SHARPNESS = 4.0  # how sharply the depth levels off at the plateau (higher: flatter top, tighter shoulder)
STEEP = (1.0, 3.0)  # surface slopes (depth per grid cell) over which the front texture fades to the side colours
SHADING_BLUR = 1.5  # the picture's brightness is smoothed by this many grid cells before shaping the front
SOLID_ALPHA = 224  # texels this opaque show only the object; the feathered edge below it mixes in background
EDGE_PX = 2  # ... and this many pixels inside it are replaced too: the outline of a cut may sit on the background


def _bled_texture(view: View) -> Image.Image:
    """The view's RGB with the object's edge colours carried outwards over the background.

    Texture filtering at the outline then blends object colours only, not the transparent
    surround (which a viewer would show as a dark or white fringe). The feathered edge is replaced
    too, and a thin band inside it: those pixels are partly background (grass, a table), and the steep
    sides stretch them widest.
    """
    rgb = np.asarray(view.image.convert("RGB"))
    solid = np.asarray(view.image.getchannel("A")) >= SOLID_ALPHA
    inner = ndimage.binary_erosion(solid, iterations=EDGE_PX)  # a found outline may sit a pixel or two out
    outside = ~(inner if inner.any() else solid)
    if outside.all() or not outside.any():
        return Image.fromarray(rgb)
    _, (rows, cols) = ndimage.distance_transform_edt(outside, return_indices=True)
    return Image.fromarray(rgb[rows, cols])


def poisson_height(mask: np.ndarray, pressure: float = PRESSURE) -> np.ndarray:
    """h with ∇²h = -pressure inside ``mask`` and h = 0 outside it (5-point Laplacian, grid units).

    Baran and Lehtinen's inflation: sqrt(h) rises from the outline like a circle's profile (with the
    default pressure a disc becomes exactly a hemisphere), and every part of the outline lifts the
    surface by its width, so a thin limb stays thin and a round body grows round, with no ridge along
    the medial axis as a distance transform leaves.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import spsolve

    padded = np.pad(mask, 1)
    rows, cols = np.nonzero(padded)
    index = np.full(padded.shape, -1)
    index[rows, cols] = np.arange(len(rows))
    entries_r, entries_c, values = [np.arange(len(rows))], [np.arange(len(rows))], [np.full(len(rows), 4.0)]
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        neighbour = index[rows + dr, cols + dc]
        inside = neighbour >= 0
        entries_r.append(np.flatnonzero(inside))
        entries_c.append(neighbour[inside])
        values.append(np.full(int(inside.sum()), -1.0))
    laplacian = csr_matrix((np.concatenate(values), (np.concatenate(entries_r), np.concatenate(entries_c))),
                           shape=(len(rows), len(rows)))
    height = np.zeros(padded.shape)
    height[rows, cols] = spsolve(laplacian, np.full(len(rows), pressure))
    return height[1:-1, 1:-1]


def _onto_outline(xy: np.ndarray, soft: np.ndarray) -> np.ndarray:
    """Rim vertices (grid pixel units, centred, +Y up) moved outwards onto the soft mask's 0.5 line.

    The rim runs through the outermost pixel centres, half a pixel inside the true outline on
    average; following the mask's gradient to its 0.5 crossing restores the silhouette to sub-pixel.
    """
    h, w = soft.shape
    rows, cols = h / 2 - xy[:, 1] - 0.5, xy[:, 0] + w / 2 - 0.5
    grad_r, grad_c = np.gradient(soft)
    at = [rows, cols]
    value = ndimage.map_coordinates(soft, at, order=1, mode="constant")
    g_r = ndimage.map_coordinates(grad_r, at, order=1, mode="constant")
    g_c = ndimage.map_coordinates(grad_c, at, order=1, mode="constant")
    length = np.hypot(g_r, g_c)
    step = np.clip((value - 0.5) / np.maximum(length, 1e-6), 0.0, RIM_REACH)
    step[length < 1e-3] = 0.0
    # outwards is down the gradient; rows grow downwards while y grows upwards
    return xy + np.column_stack([-g_c, g_r]) / np.maximum(length, 1e-6)[:, None] * step[:, None]


def plateau_profile(depth: np.ndarray, plateau: float) -> np.ndarray:
    """``depth`` levelled off smoothly at ``plateau`` times its deepest point (1: left as it is).

    A soft minimum (x / (1 + (x / cap)^p)^(1/p)): near the outline, where depth is small, the round
    sqrt(h) profile is kept, so the edges stay rounded; the middle flattens, so a photographed
    object becomes a thick relief with its picture on a nearly flat face, not an egg.
    """
    if plateau >= 1.0 or not depth.size or depth.max() <= 0:
        return depth
    cap = plateau * float(depth.max())
    return depth / (1.0 + (depth / cap) ** PLATEAU_SHARPNESS) ** (1.0 / PLATEAU_SHARPNESS)


def _side_weight(depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per grid cell, 0 where the front faces the camera, rising to 1 where it turns steeply away (and outside)."""
    grad_r, grad_c = np.gradient(np.where(mask, depth, 0.0))
    slope = np.hypot(grad_r, grad_c)
    low, high = STEEP
    return np.where(mask, np.clip((slope - low) / (high - low), 0.0, 1.0), 1.0)


def _two_sided_texture(view: View, side_weight: np.ndarray) -> Image.Image:
    """One texture: the photo (edge colours bled outwards) on the left, an estimate of the unseen back on the right.

    The back is the front's colours blurred and darkened: what a viewer expects behind an object
    (its colours, in shadow) without the front's details, a face or a label, printed on it mirrored.
    Where ``side_weight`` (grid cells over the view) says the front turns away from the camera, the
    photo fades into those back colours, so the steep sides, which the planar UVs cover with a few
    pixels of the photo's outline, show the object's colour meeting the back at the rim, not streaks.
    """
    front = _bled_texture(view)
    sigma = (front.height / BACK_BLUR, front.width / BACK_BLUR, 0)
    photo = np.asarray(front, dtype=float)
    blurred = ndimage.gaussian_filter(photo, sigma)
    weight = np.asarray(Image.fromarray(side_weight.astype(np.float32)).resize(front.size, Image.Resampling.BILINEAR))
    weight = np.clip(weight, 0.0, 1.0)[:, :, None]
    side = blurred * (1.0 - (1.0 - BACK_SHADE) * weight)  # darkening towards the back's shade at the rim
    front = Image.fromarray(np.clip(photo * (1.0 - weight) + side * weight, 0, 255).astype(np.uint8))
    back = Image.fromarray(np.clip(blurred * BACK_SHADE, 0, 255).astype(np.uint8))
    both = Image.new("RGB", (front.width * 2, front.height))
    both.paste(front, (0, 0))
    both.paste(back, (front.width, 0))
    return both


def single_view_mesh(view: View, grid: int, shading_depth: float, depth_scale: float = 1.0,
                     smoothness: float = 0.15, plateau: float = 1.0) -> trimesh.Trimesh:
    """A closed, smooth body with the view's outline, facing the view's camera on +Z, textured front and back.

    The outline (the view's mask on a ``grid``-cell grid, blurred by ``smoothness``) is inflated by
    ``poisson_height``; depth is ``depth_scale`` times sqrt(h) (1: a disc becomes a sphere), levelled
    off at ``plateau`` of its deepest (``plateau_profile``; 1: not at all), the front also shaped by
    the picture's shading, smoothed (``shading_factor``). Front and back share the outline, so
    the body is watertight; they carry the photo and the back estimate of ``_two_sided_texture``
    through planar UVs. A lone view is the front whatever its azimuth: there is nothing to align it with.
    The body is centred on its outline's box (``mask_centre``; a view cropped with others may not be).
    """
    small = view.image.convert("RGBa").resize((grid, grid), Image.Resampling.BOX).convert("RGBA")
    soft = np.asarray(small.getchannel("A"), dtype=float) / 255.0
    if smoothness > 0:
        soft = ndimage.gaussian_filter(soft, SMOOTHING_CELLS * smoothness)
    mask = soft >= 0.5
    if not mask.any():
        raise ProviderError(f"{view.name} shows no object to reconstruct")
    rgb = ndimage.gaussian_filter(np.asarray(small.convert("RGB"), dtype=float) / 255.0,
                                  (SHADING_BLUR, SHADING_BLUR, 0))  # only shapes the front: fine detail would be spikes
    try:
        sheet = front_sheet(mask, rgb)
    except ValueError:
        raise ProviderError(f"{view.name}: the object is too thin to mesh on a {grid}-cell grid") from None
    depth = plateau_profile(depth_scale * np.sqrt(np.maximum(poisson_height(mask), 0.0)), plateau)
    rows, cols = grid / 2 - sheet.xy[:, 1] - 0.5, sheet.xy[:, 0] + grid / 2 - 0.5
    z = ndimage.map_coordinates(depth, [rows, cols], order=1)
    z[sheet.rim] = 0.0
    xy = sheet.xy.copy()
    xy[sheet.rim] = _onto_outline(sheet.xy[sheet.rim], soft)
    front_z = z * shading_factor(sheet.rgb, ~sheet.rim, shading_depth)
    pixel = 2.0 / grid
    count = len(xy)
    positions = np.concatenate([np.column_stack([xy, front_z]), np.column_stack([xy, -z])]) * pixel
    faces = np.concatenate([sheet.faces, (sheet.faces + count)[:, ::-1]])
    planar = (positions[:count, :2] + 1.0) / 2.0
    uv = np.concatenate([planar * [0.5, 1.0], planar * [0.5, 1.0] + [0.5, 0.0]])
    positions[:, :2] -= mask_centre(view)
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=_two_sided_texture(view, _side_weight(depth, mask)),
                                                   metallicFactor=0.0,
                                                   roughnessFactor=0.9)
    return trimesh.Trimesh(positions, faces, visual=trimesh.visual.TextureVisuals(uv=uv, material=material),
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
