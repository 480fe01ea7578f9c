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
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from shared.assets.views import ALPHA_SOLID, View, view_name
from shared.envgen.colors import to_hex
from shared.envgen.image_mesh import cut_out
from shared.errors import ImageTooLarge, InvalidImage

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
            return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"{label} could not be decoded: {error}") from None


@dataclass
class Cutout:
    """A picture at working size with the object's mask as alpha, the mask's box and the scale back to the source."""

    rgba: Image.Image
    box: tuple[int, int, int, int]  # left, top, right, bottom (exclusive), working pixels
    scale: float  # source pixels per working pixel
    source_size: tuple[int, int]
    background: str  # "alpha", the background colour cut from ("#rrggbb"), or "none"


def cut_out_object(image: Image.Image, work_side: int, label: str) -> Cutout:
    """The object of ``image``: its own alpha when it has one, else cut from a plain border colour.

    A picture with neither (a busy background) keeps everything: the whole frame is the object.
    """
    source_size = image.size
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    rgba = image.convert("RGBA")
    shrink = max(rgba.size) / work_side
    if shrink > 1.0:
        rgba = rgba.resize((max(1, round(rgba.width / shrink)), max(1, round(rgba.height / shrink))),
                           Image.Resampling.LANCZOS)
    scale = source_size[0] / rgba.width
    alpha = np.asarray(rgba.getchannel("A"))
    if has_alpha and (alpha < ALPHA_SOLID).mean() > TRANSPARENT_FRACTION:
        mask, background = alpha >= ALPHA_SOLID, "alpha"
    else:
        found = cut_out(np.asarray(rgba.convert("RGB"), dtype=float) / 255.0)
        if found is None:
            mask, background = np.ones(alpha.shape, dtype=bool), "none"
        else:
            mask, background = found[0], to_hex(tuple(found[1]))
        rgba.putalpha(Image.fromarray(mask.astype(np.uint8) * 255))
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        raise InvalidImage(f"{label} shows no object: it is fully transparent")
    box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    return Cutout(rgba, box, scale, source_size, background)


def square_around(box: tuple[float, float, float, float], margin: float) -> tuple[float, float, float]:
    """Left, top and side of the square centred on ``box`` that leaves ``margin`` (a fraction) on each side."""
    left, top, right, bottom = box
    side = max(right - left, bottom - top, 1.0) / (1.0 - 2.0 * margin)
    return (left + right - side) / 2, (top + bottom - side) / 2, side


def normalise(images: list[Image.Image], azimuths: list[float | None], labels: list[str], size: int,
              margin: float) -> tuple[list[View], list[dict]]:
    """Square RGBA views of the pictures' objects, and per view how it was made (crop in source pixels).

    Pictures of one size share one crop (the union of their objects' boxes); otherwise each is
    cropped to its own object.
    """
    cutouts = [cut_out_object(image, 2 * size, label) for image, label in zip(images, labels, strict=True)]
    shared = len(cutouts) > 1 and len({c.rgba.size for c in cutouts}) == 1
    union = tuple(f(c.box[i] for c in cutouts) for i, f in enumerate((min, min, max, max)))
    views, facts = [], []
    for number, (cutout, azimuth) in enumerate(zip(cutouts, azimuths, strict=True)):
        left, top, side = square_around(union if shared else cutout.box, margin)
        square = cutout.rgba.convert("RGBa").transform(
            (size, size), Image.Transform.EXTENT, (left, top, left + side, top + side), Image.Resampling.BICUBIC)
        views.append(View(view_name(number), square.convert("RGBA"), azimuth))
        facts.append({
            "background": cutout.background,
            "shared_crop": shared,
            "crop": [round(v * cutout.scale, 3) for v in (left, top, side)],
            "source_size": list(cutout.source_size),
        })
    return views, facts
