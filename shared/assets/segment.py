"""Finding the subject of a photograph: the mask every reconstructor builds on.

In order of trust: a mask the request gives (used as it is), the picture's own alpha (in
``images.cut_out_object``), a box the request gives (GrabCut inside it), a plain background colour
(``shared.envgen.image_mesh.cut_out``, exact for studio shots and generated views), and otherwise
GrabCut (OpenCV) started from a saliency model: the picture's border is taken for background, and
pixels whose colour the border does not explain stand out as the probable subject (a subject that
reaches an edge is looked for again with that side of the border left out). Every mask is then
cleaned the same way: the largest part kept, holes filled, the edge feathered.

The saliency model, GrabCut's starting labels and a first cut are worked out on a small copy (a few
hundred pixels across are enough to tell where the subject is, and the morphology is sized in its
pixels). The final cut runs on a copy twice as large, started from the first cut's subject inside
the same box: its colour model then holds the parts the first cut grew into (not only what stood
out), and at that size a part a few pixels wide (a leg, a tail) is kept, where at the smaller one
GrabCut's smoothness term, which charges every pixel of outline, cuts it off. The cut from the whole
frame stays on the small copy (its cost grows fastest with size); a box the request gives is cut on
the finest copy, up to the large one, that keeps the box under ``BOX_PIXELS``, so a box around a small
subject keeps its thin parts too. The mask is then brought back to working size, smoothed on the way.
A picture where nothing stands out (a plain field, noise, a background the border cannot model)
raises ``NoSubject`` with the reason, rather than handing on the whole frame as the object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

# Copies the work is done on, by their longer side in pixels. The coarse one serves the saliency model, the
# starting labels, the first cut and the cut from the whole frame (GrabCut's cost grows fastest there);
# the final cut of the automatic path runs on the fine one, and a box the request gives is cut on the
# finest copy, up to the fine one, that keeps the box under BOX_PIXELS.
COARSE_SIDE = 400
FINE_SIDE = 800
BOX_PIXELS = 120_000
GRABCUT_ITERATIONS = 5
BORDER_FRACTION = 0.02  # the ring of the picture taken for sure background, as a share of the longer side
BORDER_CLUSTERS = 8  # colours of the background model drawn from the border ring
SALIENT = 2.0  # a pixel this many times further from every border colour than the border's own spread stands out
MIN_SALIENT_FRACTION = 0.004  # fewer standing-out pixels than this share of the picture: no subject
PLAIN_STD = 2.0  # a picture whose colours vary less than this (0..255) is a plain field
MIN_COVERAGE = 0.003  # a mask smaller than this share of the picture found no subject
SIZEABLE = 0.03  # a subject smaller than this share may be a detail of one that reaches the border
MAX_COVERAGE = 0.92  # a mask larger than this is the frame, not a subject
MAX_OVERLAP = 0.9  # colour histograms of subject and background this alike: they are not separated
FEATHER_PX = 1.5  # sigma of the soft edge, in working pixels
SIDE_PART = 0.3  # standing-out parts at least this share of the largest one belong to the subject too
FAINT = 1.5  # ... and what stands out this much and joins it tells how far GrabCut may grow it
BOX_PAD = 0.1  # GrabCut may grow the subject this share of its size beyond the standing-out region
FRAME_INSET = 0.03  # GrabCut from the whole frame starts from a rectangle this share inside each edge
FRAME_HOLDS = 0.5  # ... and is kept when it holds at least this share of what stood out


class NoSubject(ValueError):
    """The picture shows no subject that can be told from its background; the message says why."""


@dataclass
class Segmentation:
    """A soft mask (0..1, working size) and how it was found, with the facts the manifest reports."""

    alpha: np.ndarray
    method: str  # "mask", "alpha", "box", "background", "grabcut"
    notes: list[str] = field(default_factory=list)
    facts: dict[str, float | bool | str] = field(default_factory=dict)


def has_alpha(image: Image.Image) -> bool:
    """Whether the picture carries an alpha channel (or a transparent palette entry)."""
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _small(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The picture shrunk to at most ``side`` pixels along its longer side, and the factor from working
    pixels to its pixels."""
    height, width = rgb.shape[:2]
    factor = min(1.0, side / max(height, width))
    if factor >= 1.0:
        return np.ascontiguousarray(rgb), 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX)), factor


def _ring(shape: tuple[int, int], width: int) -> np.ndarray:
    ring = np.ones(shape, dtype=bool)
    ring[width:-width, width:-width] = False
    return ring


def _sides(shape: tuple[int, int], width: int) -> list[np.ndarray]:
    """The picture's four border strips (top, bottom, left, right) as masks, ``width`` pixels deep."""
    strips = []
    for index in (np.s_[:width, :], np.s_[-width:, :], np.s_[:, :width], np.s_[:, -width:]):
        strip = np.zeros(shape, dtype=bool)
        strip[index] = True
        strips.append(strip)
    return strips


def border_distances(rgb: np.ndarray, strips: list[np.ndarray]) -> np.ndarray:
    """(N, H, W): how far each pixel's colour is from everything one border strip shows, in that strip's spread.

    Each strip's colours are summarised by k-means in Lab (perceptual distances); a background pixel
    is near one of them, a pixel of a colour the strip lacks is far from all.
    """
    import cv2

    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    flat = lab.reshape(-1, 3)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    maps = []
    for strip in strips:
        samples = lab[strip]
        cv2.setRNGSeed(0)
        _, labels, centres = cv2.kmeans(samples, min(BORDER_CLUSTERS, len(samples)), None, criteria, 2,
                                        cv2.KMEANS_PP_CENTERS)
        distance = np.min(np.linalg.norm(flat[:, None, :] - centres[None, :, :], axis=2), axis=1)
        spread = max(float(np.percentile(np.linalg.norm(samples - centres[labels.ravel()], axis=1), 90)), 4.0)
        maps.append(ndimage.gaussian_filter(distance.reshape(rgb.shape[:2]) / spread, 1.0))
    return np.stack(maps)


def _largest_part(mask: np.ndarray) -> np.ndarray:
    """The biggest connected part of ``mask`` with its holes filled (a subject is one solid piece)."""
    parts, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(parts.ravel())[1:]
    return ndimage.binary_fill_holes(parts == 1 + int(np.argmax(sizes)))


def clean(mask: np.ndarray) -> np.ndarray:
    """A hard mask with only its largest part kept and holes filled (specks elsewhere go with the rest)."""
    return _largest_part(mask)


def feathered(mask: np.ndarray, size: tuple[int, int], sigma: float = FEATHER_PX) -> np.ndarray:
    """A hard mask (any size) as a soft alpha (0..1) of ``size`` (width, height), its edge blurred by ``sigma`` px.

    Resizing the blurred mask, not the hard one, keeps the outline smooth when it is enlarged.
    """
    width, height = size
    soft = ndimage.gaussian_filter(mask.astype(np.float32), max(sigma * mask.shape[1] / width, 0.5))
    soft = np.asarray(Image.fromarray(soft).resize((width, height), Image.Resampling.BILINEAR))
    soft = ndimage.gaussian_filter(soft, sigma)
    return np.clip((soft - 0.5) * 2.0 + 0.5, 0.0, 1.0)  # keep the 0.5 line where it is, steepen the ramp


def _overlap(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Bhattacharyya coefficient of the subject's and the background's colour histograms (1: indistinguishable)."""
    bins = (rgb // 32).reshape(-1, 3).astype(np.int64)
    index = bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2]
    flat = mask.ravel()
    inside = np.bincount(index[flat], minlength=512).astype(float)
    outside = np.bincount(index[~flat], minlength=512).astype(float)
    return float(np.sqrt(inside / inside.sum() * outside / outside.sum()).sum())


def grabcut(rgb: np.ndarray, init: np.ndarray | None = None,
            rect: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """GrabCut's hard foreground from an initial label map (cv2.GC_* values) or a rectangle (x, y, w, h)."""
    import cv2

    cv2.setRNGSeed(0)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if rect is not None:
        labels = np.zeros(rgb.shape[:2], np.uint8)
        cv2.grabCut(bgr, labels, rect, background, foreground, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_RECT)
    else:
        labels = init.copy()
        cv2.grabCut(bgr, labels, None, background, foreground, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


def initial_labels(standing_out: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """GrabCut's starting labels from the saliency map: what clearly stands out is probable subject, the
    rest of a box around what stands out at least faintly and joins it probable background (GrabCut
    may grow the subject there), everything else background.

    The clear region is closed and filled, so a subject's own background-like colours join it; the
    faint region widens the box to thin or shaded parts (legs, a dim lower half) a box around the
    clear region alone would cut off.
    """
    import cv2

    height, width = standing_out.shape
    salient = standing_out > SALIENT
    reach = max(2, round(0.02 * max(height, width)))
    core = ndimage.binary_closing(ndimage.binary_opening(salient), iterations=reach)
    if not core.any():  # only specks stand out: they are all there is to start from
        core = salient
    parts, _ = ndimage.label(core)
    sizes = np.bincount(parts.ravel())[1:]
    keep = np.flatnonzero(sizes >= SIDE_PART * sizes.max()) + 1
    core = ndimage.binary_fill_holes(np.isin(parts, keep))
    faint, _ = ndimage.label(ndimage.binary_opening(standing_out > FAINT) | core)
    extent = np.isin(faint, np.unique(faint[core & (faint > 0)]))
    rows, cols = np.nonzero(extent)
    pad_r, pad_c = round(BOX_PAD * (np.ptp(rows) + 1)), round(BOX_PAD * (np.ptp(cols) + 1))
    labels = np.full((height, width), cv2.GC_BGD, np.uint8)
    box = (slice(max(0, rows.min() - pad_r), rows.max() + pad_r + 1),
           slice(max(0, cols.min() - pad_c), cols.max() + pad_c + 1))
    labels[box] = cv2.GC_PR_BGD
    labels[core] = cv2.GC_PR_FGD
    labels[ring] = cv2.GC_BGD
    return labels


def from_first_cut(labels: np.ndarray, first: np.ndarray) -> np.ndarray:
    """GrabCut's labels for a second cut: the first cut's subject probable subject, the rest of the first
    labels' box probable background, their sure background kept.

    The first cut grows the subject from what stood out into parts whose colours the border also
    shows (an orange suit beside an orange saucer); started from all of it, the second cut's colour
    model of the subject holds those colours too, and takes the rest of such parts.
    """
    import cv2

    relabelled = np.where(labels == cv2.GC_BGD, cv2.GC_BGD, cv2.GC_PR_BGD).astype(np.uint8)
    relabelled[first] = cv2.GC_PR_FGD
    return relabelled


def _checked(rgb: np.ndarray, mask: np.ndarray, how: str) -> dict[str, float | bool | str]:
    """Facts about a found mask; ``NoSubject`` when it is no subject (too small, the frame, or not separated)."""
    coverage = float(mask.mean())
    if coverage < MIN_COVERAGE:
        raise NoSubject(f"{how} found no subject (it covers {coverage:.1%} of the picture)")
    if coverage > MAX_COVERAGE:
        raise NoSubject(f"{how} took {coverage:.0%} of the picture: no subject stands apart from a background")
    overlap = _overlap(rgb, mask)
    if overlap > MAX_OVERLAP:
        raise NoSubject(f"{how} could not separate a subject: inside and outside have the same colours "
                        f"(histogram overlap {overlap:.2f})")
    return {"coverage": round(coverage, 4), "colour_overlap": round(overlap, 3)}


def _touching(mask: np.ndarray, width: int) -> list[str]:
    """The sides of the picture the mask reaches (within ``width`` pixels of)."""
    sides = {"top": mask[:width + 1].any(), "bottom": mask[-width - 1:].any(),
             "left": mask[:, :width + 1].any(), "right": mask[:, -width - 1:].any()}
    return [side for side, touched in sides.items() if touched]


def _enlarged(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A label map (cv2.GC_* values) or a 0/1 mask, as uint8, brought to ``shape`` (rows, columns), each pixel
    taking its nearest value."""
    if labels.shape == shape:
        return labels
    return np.asarray(Image.fromarray(labels).resize((shape[1], shape[0]), Image.Resampling.NEAREST))


def _first_cut(coarse: np.ndarray, distances: np.ndarray, sides_free: int,
               width: int) -> tuple[np.ndarray, np.ndarray]:
    """GrabCut's starting labels and its subject on ``coarse`` (``distances`` and ``width`` in its pixels)
    when the subject may reach ``sides_free`` sides of the picture. With no side free, a pixel stands out
    when the whole ring (``distances[0]``) lacks its colour; else unless more than ``sides_free`` of the
    four sides (``distances[1:]``) show it."""
    standing_out = distances[0] if sides_free == 0 else np.sort(distances[1:], axis=0)[sides_free]
    salient = standing_out > SALIENT
    ring = _ring(coarse.shape[:2], width)
    if (salient & ~ring).mean() < MIN_SALIENT_FRACTION:
        raise NoSubject("nothing in the picture stands out from the colours at its border "
                        "(give a mask or a box in options.segment)")
    labels = initial_labels(standing_out, ring & ~salient)
    return labels, clean(grabcut(coarse, labels))


def _final_cut(small: np.ndarray, labels: np.ndarray, first: np.ndarray) -> np.ndarray:
    """GrabCut's subject on ``small``, started from the first cut (``labels`` and ``first``, on the coarse copy)."""
    return clean(grabcut(small, _enlarged(from_first_cut(labels, first), small.shape[:2])))


def _framed(small: np.ndarray, inset: float = FRAME_INSET) -> np.ndarray:
    """GrabCut's subject from a rectangle just inside the picture's edges: a subject that fills the frame."""
    height, width = small.shape[:2]
    left, top = round(inset * width), round(inset * height)
    return clean(grabcut(small, rect=(left, top, width - 2 * left, height - 2 * top)))


def automatic(rgb: np.ndarray) -> Segmentation:
    """The subject of a photograph with no alpha, mask or box: GrabCut from the border-colour saliency model.

    The border is first taken for background all round. A subject that reaches an edge (a portrait,
    a close-up) brings its own colours into that model and hides, so when that finds no subject or
    only a small one, the cut is tried again letting it reach one, then two sides. What stands out
    then is often only a part of a subject filling the frame (a cat's eye and nose, a suit without its
    head), so GrabCut from the whole frame is tried too, and kept (with a note) when it holds most of
    that part. Where nothing stands out under any model, there is no subject (grass, gravel, noise).
    These choices are made on the first cuts, on the coarse copy; only the one chosen is cut again on
    the fine copy (the final cut costs the most).
    """
    if float(rgb.reshape(-1, 3).std(axis=0).max()) < PLAIN_STD:
        raise NoSubject("the picture is one plain colour: there is no subject to cut out")
    small, _ = _small(rgb, FINE_SIDE)
    coarse, _ = _small(rgb, COARSE_SIDE)
    coarse_width = max(2, round(BORDER_FRACTION * max(coarse.shape[:2])))
    distances = border_distances(coarse, [_ring(coarse.shape[:2], coarse_width),
                                          *_sides(coarse.shape[:2], coarse_width)])
    width = max(2, round(BORDER_FRACTION * max(small.shape[:2])))
    found, reasons = [], []
    for sides_free in range(3):
        try:
            labels, first = _first_cut(coarse, distances, sides_free, coarse_width)
            found.append((_checked(coarse, first, "automatic segmentation"), labels, first))
        except NoSubject as why:
            reasons.append(str(why))
            continue
        if found[-1][0]["coverage"] >= SIZEABLE:
            break
    if not found:
        raise NoSubject(reasons[0])
    _, labels, first = found[-1] if found[-1][0]["coverage"] >= SIZEABLE else max(found, key=lambda f: f[0]["coverage"])
    framed = None
    if len(found) > 1 or reasons:  # the all-round border model found no sizeable subject: it may fill the frame
        whole = _framed(coarse)
        if (whole & first).sum() >= FRAME_HOLDS * first.sum():
            try:
                _checked(coarse, whole, "GrabCut from the whole frame")
                framed = whole
            except NoSubject:
                pass  # the part that stood out is all there is to go on
    if framed is not None:
        mask = _enlarged(framed.astype(np.uint8), small.shape[:2]).astype(bool)
        touched = ["every"]
        notes = ["the picture's border shows the subject's own colours, so the subject was taken to fill "
                 "the frame and cut from the whole picture: it may be cut off at the picture's edges, "
                 "or hold some background (a box in options.segment says where it is)"]
        facts = _checked(small, mask, "GrabCut from the whole frame")
    else:
        mask = _final_cut(small, labels, first)
        try:
            facts = _checked(small, mask, "automatic segmentation")
        except NoSubject:  # the final cut lost what the first one found: the first is kept
            mask = _enlarged(first.astype(np.uint8), small.shape[:2]).astype(bool)
            facts = _checked(small, mask, "automatic segmentation")
        touched = _touching(mask, width)
        notes = [f"the subject reaches the picture's {', '.join(touched)} edge(s): it may be cut off there"
                 ] if touched else []
    facts["touches_border"] = bool(touched)
    return Segmentation(feathered(mask, (rgb.shape[1], rgb.shape[0])), "grabcut", notes, facts)


def in_box(rgb: np.ndarray, box: tuple[float, float, float, float]) -> Segmentation:
    """The subject inside a box the request gives (working pixels: left, top, right, bottom): GrabCut from it.

    The cut runs on the finest copy (up to ``FINE_SIDE``) that keeps the box under ``BOX_PIXELS``: thin
    parts (legs, a handle) survive a fine cut and are lost on a coarse one, and GrabCut's time grows
    with the pixels it decides, so a box around most of a large picture is cut coarser.
    """
    long_side = max(rgb.shape[:2])
    area = max(box[2] - box[0], 1.0) * max(box[3] - box[1], 1.0)
    side = round(long_side * min(FINE_SIDE / long_side, float(np.sqrt(BOX_PIXELS / area))))
    small, factor = _small(rgb, max(side, COARSE_SIDE))
    height, width = small.shape[:2]
    left, top = max(0, int(box[0] * factor)), max(0, int(box[1] * factor))
    right, bottom = min(width, int(np.ceil(box[2] * factor))), min(height, int(np.ceil(box[3] * factor)))
    if right - left < 2 or bottom - top < 2:
        raise NoSubject(f"the box {list(box)} is too small or outside the picture")
    if left == 0 and top == 0 and right == width and bottom == height:
        found = np.ones((height, width), dtype=bool)  # a box of the whole picture says: all of it
    else:
        found = clean(grabcut(small, rect=(left, top, right - left, bottom - top)))
    if not found.any():
        raise NoSubject(f"GrabCut found nothing inside the box {list(box)}")
    facts: dict[str, float | bool | str] = {"coverage": round(float(found.mean()), 4)}
    return Segmentation(feathered(found, (rgb.shape[1], rgb.shape[0])), "box", [], facts)


def given_mask(mask_image: Image.Image, size: tuple[int, int], label: str) -> Segmentation:
    """A mask picture the request gives, at working ``size``: its alpha if it has one, else its brightness.

    Used as it is (only resized, and its largest part kept): the caller knows their subject.
    """
    channel = mask_image.convert("RGBA").getchannel("A") if has_alpha(mask_image) else mask_image.convert("L")
    width, height = size
    if abs(channel.width / channel.height - width / height) > 0.02 * width / height:
        raise NoSubject(f"the mask of {label} is {channel.width}x{channel.height}, not the picture's shape "
                        f"({width}x{height} once upright)")
    hard = np.asarray(channel.resize((width, height), Image.Resampling.BILINEAR)) >= 128
    if not hard.any():
        raise NoSubject(f"the mask of {label} is empty")
    kept = _largest_part(hard)
    facts: dict[str, float | bool | str] = {"coverage": round(float(kept.mean()), 4)}
    return Segmentation(feathered(kept, (width, height), 0.7), "mask", [], facts)
