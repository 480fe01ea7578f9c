"""Colour helpers: plans speak sRGB hex (what people write), glTF factors are linear."""

from __future__ import annotations


def rgb(hex_color: str) -> tuple[float, float, float]:
    """sRGB components in 0..1."""
    return (int(hex_color[1:3], 16) / 255, int(hex_color[3:5], 16) / 255, int(hex_color[5:7], 16) / 255)


def to_hex(components: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(min(1.0, max(0.0, c)) * 255):02x}" for c in components[:3])


def mix(a: str, b: str, t: float) -> str:
    """Blend two hex colours, ``t`` = 0 gives ``a``."""
    return to_hex(tuple(x + (y - x) * t for x, y in zip(rgb(a), rgb(b), strict=True)))


def shade(color: str, factor: float) -> str:
    """Darken (factor < 1) or lighten a hex colour."""
    return to_hex(tuple(c * factor for c in rgb(color)))


def linear(hex_color: str) -> tuple[float, float, float]:
    """Linear-light components, as glTF colour factors and light colours expect."""
    return tuple(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb(hex_color))  # type: ignore[return-value]
