"""Test media made in code: encoded pictures and the frames of a sideways-moving texture."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def moving_pattern(count: int, size: tuple[int, int] = (96, 64), seed: int = 0) -> list[np.ndarray]:
    """``count`` frames of a random texture sliding 4 pixels per frame: features structure from motion can track."""
    rng = np.random.default_rng(seed)
    width, height = size
    texture = (rng.random((height, width * 2, 3)) * 255).astype(np.uint8)
    return [np.ascontiguousarray(texture[:, i * 4:i * 4 + width]) for i in range(count)]
