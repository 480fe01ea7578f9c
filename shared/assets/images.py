"""Input pictures -> normalised views: decoded under a pixel cap, upright, cut out, cropped, square.

Photos and generated pictures go through the same steps, so every reconstructor sees the same
kind of input: the object alone (alpha is its mask), centred, with a small margin, at a fixed size.
Several pictures of the same size are cropped with one shared square, so the object keeps its
scale and position from view to view (what a visual hull needs); a lone picture is cropped to its
own object.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from shared.assets.segment import (
    NoSubject,
    Segmentation,
    automatic,
    feathered,
    given_mask,
    has_alpha,
    in_box,
)
from shared.assets.views import ALPHA_SOLID, View, view_name
from shared.envgen.colors import to_hex
from shared.envgen.image_mesh import cut_out
from shared.errors import ImageTooLarge, InvalidImage

# A border this varied (colour distance, 0..1) is not plain: photos of brick or grass pass the scene mesher's
# looser test, and cutting their mortar or shadows away as "background" leaves a slab of the rest.
PLAIN_THRESHOLD = 0.06
TRANSPARENT_FRACTION = 0.001  # an alpha channel with fewer see-through pixels than this is not a cut-out


def decode_image(data: bytes, max_pixels: int, label: str) -> Image.Image:
    """The picture, upright (EXIF orientation applied); its header is checked against the cap before decoding.

    Pillow refuses the worst bombs itself while opening (past twice its own limit), before our check
    can read the size; either way the client gets an ``ImageTooLarge`` and nothing is decompressed.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        counted = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{counted.group(1)} pixels" if counted else "too large"
        raise ImageTooLarge(f"{label} is {size}, over the limit of {max_pixels} pixels "
                            "(a decompression bomb: refused before decoding)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"{label} is not an image we can read: {error}") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(f"{label} is {width}x{height}, over the limit of {max_pixels} pixels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
            return _eight_bit(ImageOps.exif_transpose(image))
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"{label} could not be decoded: {error}") from None


def _eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit or float greyscale picture as 8-bit greyscale, its range scaled, not clipped.

    Pillow's own conversion of these modes to RGB clips every value above 255 to white, which
    leaves a 16-bit photo one white field with no subject in it.
    """
    if image.mode not in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return image
    values = np.asarray(image, dtype=np.float64)
    top = float(values.max()) if values.size else 0.0
    scale = 255.0 if top <= 1.0 else 1.0 if top <= 255.0 else 255.0 / 65535.0 if top <= 65535.0 else 255.0 / top
    return Image.fromarray(np.clip(np.round(values * scale), 0, 255).astype(np.uint8), "L")


@dataclass
class Hint:
    """What the request says about one picture's subject: a mask picture or a box (upright source pixels)."""

    mask: Image.Image | None = None
    box: tuple[float, float, float, float] | None = None


@dataclass
class Cutout:
    """A picture at working size with the object's mask as alpha, the mask's box and the scale back to the source."""

    rgba: Image.Image
    box: tuple[int, int, int, int]  # left, top, right, bottom (exclusive), working pixels
    scale: float  # source pixels per working pixel
    source_size: tuple[int, int]
    background: str  # "alpha", the plain background colour cut from ("#rrggbb"), "mask", "box" or "grabcut"
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def _segmentation(rgba: Image.Image, transparent: bool, hint: Hint, scale: float, label: str) -> Segmentation:
    """The subject's soft mask at working size, from the most trusted source there is (``shared.assets.segment``)."""
    alpha = np.asarray(rgba.getchannel("A"))
    if hint.mask is not None:
        return given_mask(hint.mask, rgba.size, label)
    if transparent and (alpha < ALPHA_SOLID).mean() > TRANSPARENT_FRACTION:
        kept = alpha >= ALPHA_SOLID
        return Segmentation(alpha / 255.0, "alpha", facts={"coverage": round(float(kept.mean()), 4)})
    rgb = np.asarray(rgba.convert("RGB"))
    if hint.box is not None:
        return in_box(rgb, tuple(v / scale for v in hint.box))
    found = cut_out(rgb / 255.0, PLAIN_THRESHOLD)
    if found is not None:
        return Segmentation(feathered(found[0], rgba.size), "background",
                            facts={"coverage": round(float(found[0].mean()), 4), "background": to_hex(tuple(found[1]))})
    return automatic(rgb)


def cut_out_object(image: Image.Image, work_side: int, label: str, hint: Hint | None = None,
                   whole_if_unseparated: bool = False) -> Cutout:
    """The object of ``image``: a mask the request gives, else the picture's own alpha, else found in it.

    Found means GrabCut in the request's box, cut from a plain border colour, or GrabCut from a
    saliency model (``shared.assets.segment``). A picture with no subject to find is refused with the
    reason: presenting the whole frame as the object would be a slab of background. Only a picture
    made to show one object (``whole_if_unseparated``: a generated view) is then kept whole, noted.
    """
    source_size = image.size
    rgba = image.convert("RGBA")
    shrink = max(rgba.size) / work_side
    if shrink > 1.0:
        rgba = rgba.resize((max(1, round(rgba.width / shrink)), max(1, round(rgba.height / shrink))),
                           Image.Resampling.LANCZOS)
    scale = source_size[0] / rgba.width
    try:
        found = _segmentation(rgba, has_alpha(image), hint or Hint(), scale, label)
    except NoSubject as error:
        if not whole_if_unseparated:
            raise InvalidImage(f"{label}: {error}") from None
        found = Segmentation(np.ones(rgba.size[::-1]), "none", [f"{error}; the whole picture was kept"],
                             {"coverage": 1.0})
    mask = found.alpha >= ALPHA_SOLID / 255.0
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        raise InvalidImage(f"{label} shows no object: it is fully transparent")
    rgba.putalpha(Image.fromarray(np.round(found.alpha * 255).astype(np.uint8)))
    box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    background = str(found.facts.get("background", found.method))
    facts = {"method": found.method, **found.facts}
    return Cutout(rgba, box, scale, source_size, background, [f"{label}: {note}" for note in found.notes], facts)


def square_around(box: tuple[float, float, float, float], margin: float) -> tuple[float, float, float]:
    """Left, top and side of the square centred on ``box`` that leaves ``margin`` (a fraction) on each side."""
    left, top, right, bottom = box
    side = max(right - left, bottom - top, 1.0) / (1.0 - 2.0 * margin)
    return (left + right - side) / 2, (top + bottom - side) / 2, side


@dataclass
class Normalised:
    """The views, per view how it was made (crop in source pixels, segmentation), the masks found
    (working size, the picture's shape) and notes for the job (a subject that may be cut off)."""

    views: list[View]
    facts: list[dict[str, Any]]
    masks: list[Image.Image]
    notes: list[str]


def normalise(images: list[Image.Image], azimuths: list[float | None], labels: list[str], size: int,
              margin: float, hints: list[Hint | None] | None = None, generated: bool = False) -> Normalised:
    """Square RGBA views of the pictures' objects (``hints``: what the request says of each one's subject;
    ``generated``: pictures made to show one object, kept whole when no subject can be cut from them).

    Pictures of one size share one crop (the union of their objects' boxes); otherwise each is
    cropped to its own object.
    """
    hints = hints or [None] * len(images)
    cutouts = [cut_out_object(image, 2 * size, label, hint, generated)
               for image, label, hint in zip(images, labels, hints, strict=True)]
    shared = len(cutouts) > 1 and len({c.rgba.size for c in cutouts}) == 1
    union = tuple(f(c.box[i] for c in cutouts) for i, f in enumerate((min, min, max, max)))
    result = Normalised([], [], [], [])
    for number, (cutout, azimuth) in enumerate(zip(cutouts, azimuths, strict=True)):
        left, top, side = square_around(union if shared else cutout.box, margin)
        square = cutout.rgba.convert("RGBa").transform(
            (size, size), Image.Transform.EXTENT, (left, top, left + side, top + side), Image.Resampling.BICUBIC)
        result.views.append(View(view_name(number), square.convert("RGBA"), azimuth))
        result.facts.append({
            "background": cutout.background,
            "shared_crop": shared,
            "crop": [round(v * cutout.scale, 3) for v in (left, top, side)],
            "source_size": list(cutout.source_size),
            "segmentation": cutout.facts,
        })
        result.masks.append(cutout.rgba.getchannel("A"))
        result.notes += cutout.notes
    return result
