"""One picture of an object -> a closed, vertex-coloured mesh (a hero prop), by the silhouette mesher.

TripoSR (``shared.models.triposr``), when the ``tsr`` package and a checkpoint are there,
reconstructs the object's whole shape. Without it the silhouette mesher still builds real geometry:
it cuts the object from its plain background and inflates the silhouette into a closed solid whose
front and back carry the picture's colours. It cannot know the hidden side, but the prop stands in
the scene with the picture's outline, proportions and colours, on any CPU and in milliseconds.

Meshes come out +Y up and facing +Z (towards a glTF viewer's default camera); colours are linear
RGBA bytes, as glTF's COLOR_0 wants them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from shared.envgen.colors import to_hex
from shared.geometry.render import srgb_to_linear

MESH_GRID = 96  # the silhouette is meshed on at most this many pixels along the picture's longer side
BORDER_PX = 2  # the ring of pixels that tells the background colour
MIN_THRESHOLD = 0.06  # colour distance (0..1) below which a pixel may be background, however clean the ring
MAX_THRESHOLD = 0.25  # a ring so varied that it needs more than this is not a plain background
MIN_OBJECT_FRACTION = 0.01  # a cut-out smaller than this share of the picture is noise, not the object
DEPTH_RATIO = 0.6  # the solid is this deep relative to its width where it is thickest
EDGE_SLOPE = 2.0  # near the outline the surface rises at most this fast, so thin parts stay thin


@dataclass
class HeroMesh:
    """Positions (N, 3), +Y up, facing +Z; faces (F, 3) counter-clockwise outside; colours (N, 4) linear bytes."""

    positions: np.ndarray
    faces: np.ndarray
    colors: np.ndarray


def cut_out(rgb: np.ndarray, max_threshold: float = MAX_THRESHOLD) -> tuple[np.ndarray, np.ndarray] | None:
    """The object's mask and the background colour of an sRGB picture (H, W, 3 in 0..1), or None.

    The background is what the picture's border ring shows; only background-coloured areas that
    reach the border are background, so white parts inside a white-backed object stay in it. None
    when the border is not one plain colour (it needs a threshold over ``max_threshold``) or nothing
    sizeable stands on it.
    """
    h, w, _ = rgb.shape
    ring = np.ones((h, w), dtype=bool)
    ring[BORDER_PX:-BORDER_PX, BORDER_PX:-BORDER_PX] = False
    background = np.median(rgb[ring], axis=0)
    distance = np.linalg.norm(rgb - background, axis=2) / math.sqrt(3)
    threshold = max(MIN_THRESHOLD, 3.0 * float(np.percentile(distance[ring], 75)))
    if threshold > max_threshold:
        return None
    near, _ = ndimage.label(distance < threshold)
    outside = np.unique(near[ring & (near > 0)])
    solid = ndimage.binary_opening(~np.isin(near, outside))
    parts, count = ndimage.label(solid)
    if count == 0:
        return None
    sizes = np.bincount(parts.ravel())[1:]
    if sizes.max() < MIN_OBJECT_FRACTION * h * w:
        return None
    return ndimage.binary_fill_holes(parts == 1 + int(np.argmax(sizes))), background


def _front_faces(index: np.ndarray) -> np.ndarray:
    """Triangles over the pixel-centre grid, counter-clockwise seen from +Z: two per full 2x2 cell, one per 3/4 cell."""
    a, b, d, e = index[:-1, :-1], index[:-1, 1:], index[1:, :-1], index[1:, 1:]
    ia, ib, id_, ie = a >= 0, b >= 0, d >= 0, e >= 0
    full = ia & ib & id_ & ie
    pieces = [
        (full, (a, d, b)), (full, (b, d, e)),
        (~ia & ib & id_ & ie, (b, d, e)), (ia & ~ib & id_ & ie, (a, d, e)),
        (ia & ib & ~id_ & ie, (a, e, b)), (ia & ib & id_ & ~ie, (a, d, b)),
    ]
    return np.concatenate([np.stack([corner[where] for corner in corners], axis=1) for where, corners in pieces])


@dataclass
class Sheet:
    """The front surface while it is built: faces, and per vertex its grid position, rim flag, inset and colour."""

    faces: np.ndarray
    xy: np.ndarray
    rim: np.ndarray
    inset: np.ndarray
    rgb: np.ndarray

    def add_midpoints(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Append the midpoints of edges (u, v) as inner vertices next to the outline; their indices."""
        start = len(self.xy)
        self.xy = np.concatenate([self.xy, (self.xy[u] + self.xy[v]) / 2])
        self.rim = np.concatenate([self.rim, np.zeros(len(u), dtype=bool)])
        self.inset = np.concatenate([self.inset, np.full(len(u), 0.5)])
        self.rgb = np.concatenate([self.rgb, (self.rgb[u] + self.rgb[v]) / 2])
        return start + np.arange(len(u))


def _split_chords(sheet: Sheet) -> None:
    """Split every inner edge that joins two rim vertices (thin parts, corners).

    The back shares the rim with the front, so such an edge would be shared by four faces and the
    solid would pinch to nothing along it; its midpoint becomes an inner vertex with some depth. Each
    pass splits chords with no face in common, so both faces of a chord are split at the same midpoint.
    """
    while True:
        slots = np.sort(sheet.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        edges, which, counts = np.unique(slots, axis=0, return_inverse=True, return_counts=True)
        chord = (counts == 2) & sheet.rim[edges[:, 0]] & sheet.rim[edges[:, 1]]
        if not chord.any():
            return
        chord_slots = np.flatnonzero(chord[which])
        pairs = chord_slots[np.argsort(which[chord_slots], kind="stable")].reshape(-1, 2)
        busy = np.zeros(len(sheet.faces), dtype=bool)
        picked = []
        for first, second in pairs:
            faces = (first // 3, second // 3)
            if not busy[list(faces)].any():
                busy[list(faces)] = True
                picked.append((first, second))
        chosen = np.array(picked)
        ends = slots[chosen[:, 0]]
        middle = np.repeat(sheet.add_midpoints(ends[:, 0], ends[:, 1]), 2)
        flat = chosen.ravel()
        face, slot = flat // 3, flat % 3
        p, q, w = (sheet.faces[face, (slot + k) % 3] for k in range(3))
        sheet.faces[face] = np.stack([p, middle, w], axis=1)
        sheet.faces = np.concatenate([sheet.faces, np.stack([middle, q, w], axis=1)])


def front_sheet(mask: np.ndarray, rgb: np.ndarray) -> Sheet:
    """The front surface of a solid with outline ``mask`` (H, W): triangles over its pixel centres, in pixel units
    centred on the picture (+Y up), with the outline's vertices marked as rim (the back will share them)."""
    h, w = mask.shape
    index = np.full((h, w), -1)
    rows, cols = np.nonzero(mask)
    index[rows, cols] = np.arange(len(rows))
    front = _front_faces(index)
    if len(front) == 0:
        raise ValueError("the silhouette has no area to mesh")
    used = np.unique(front)
    remap = np.full(len(rows), -1)
    remap[used] = np.arange(len(used))
    front, rows, cols = remap[front], rows[used], cols[used]

    edges, counts = np.unique(np.sort(front[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1), axis=0, return_counts=True)
    rim = np.zeros(len(used), dtype=bool)
    rim[edges[counts == 1].ravel()] = True
    # distance to the outline, with the picture's edge as outline too; pixel centres sit half a pixel inside
    inset = ndimage.distance_transform_edt(np.pad(mask, 1))[rows + 1, cols + 1] - 0.5
    xy = np.stack([cols + 0.5 - w / 2, h / 2 - rows - 0.5], axis=1)
    sheet = Sheet(front, xy, rim, inset, rgb[rows, cols])
    _split_chords(sheet)
    return sheet


def shading_factor(rgb: np.ndarray, inner: np.ndarray, shading_depth: float) -> np.ndarray:
    """Per vertex, how much its depth grows (> 1) or shrinks from its brightness (sRGB ``rgb``, 0..1).

    A lit surface is brightest where it faces the viewer: brighter than the median bulges out, darker
    sinks, by at most ``shading_depth`` of the depth per unit of brightness (clipped to 0.25..2).
    """
    if shading_depth <= 0 or not inner.any():
        return np.ones(len(rgb))
    brightness = rgb @ np.array([0.2126, 0.7152, 0.0722])
    return np.clip(1.0 + shading_depth * 2.0 * (brightness - np.median(brightness[inner])), 0.25, 2.0)


def inflate(mask: np.ndarray, rgb: np.ndarray, pixel_size: float = 1.0, shading_depth: float = 0.0) -> HeroMesh:
    """A closed solid whose outline is ``mask`` (H, W) and whose colours are ``rgb`` (sRGB 0..1), in pixel units.

    The front is a height field over the mask that rises like a circle's profile with the distance
    from the outline; the back mirrors it, and both share the rim vertices, so every edge has two faces.
    With ``shading_depth`` > 0 the front also reads depth from shading: a lit surface is brightest
    where it faces the viewer, so brighter parts bulge out and darker ones sink (at most by that
    fraction of their depth per unit of brightness); the unseen back keeps the plain profile.
    """
    sheet = front_sheet(mask, rgb)
    radius = float(sheet.inset.max())
    depth = np.sqrt(np.maximum(sheet.inset * (2 * radius - sheet.inset), 0.0))
    z = np.where(sheet.rim, 0.0, DEPTH_RATIO * np.minimum(depth, EDGE_SLOPE * sheet.inset))
    inner = ~sheet.rim
    front_z = z * shading_factor(sheet.rgb, inner, shading_depth)
    surface = np.column_stack([sheet.xy, front_z]) * pixel_size
    back = np.arange(len(surface))
    back[inner] = len(surface) + np.arange(int(inner.sum()))
    linear = np.round(srgb_to_linear(sheet.rgb) * 255).astype(np.uint8)
    colors = np.concatenate([linear, np.full((len(linear), 1), 255, dtype=np.uint8)], axis=1)
    return HeroMesh(
        positions=np.concatenate([surface, np.column_stack([sheet.xy, -z])[inner] * pixel_size]),
        faces=np.concatenate([sheet.faces, back[sheet.faces][:, ::-1]]),
        colors=np.concatenate([colors, colors[inner]]),
    )


def working_picture(image: Image.Image) -> tuple[np.ndarray, float]:
    """The picture shrunk to the mesh grid (sRGB 0..1) and the size of one of its pixels in source pixels."""
    picture = image.convert("RGB")
    factor = min(1.0, MESH_GRID / max(picture.size))
    if factor < 1.0:
        picture = picture.resize((max(1, round(picture.width * factor)), max(1, round(picture.height * factor))),
                                 Image.Resampling.BOX)
    return np.asarray(picture, dtype=float) / 255.0, image.width / picture.width


def silhouette_mesh(image: Image.Image) -> tuple[HeroMesh, str]:
    """The silhouette mesher's solid (in source-pixel units) and how the outline was found."""
    rgb, pixel_size = working_picture(image)
    cut = cut_out(rgb)
    if cut is None:
        mask = np.ones(rgb.shape[:2], dtype=bool)
        how = "no plain background, so the whole picture was inflated as a relief"
    else:
        mask, background = cut
        how = f"cut from its {to_hex(tuple(background))} background"
    mesh = inflate(mask, rgb, pixel_size)
    return mesh, f"silhouette mesher ({how}; {len(mesh.positions)} vertices)"
