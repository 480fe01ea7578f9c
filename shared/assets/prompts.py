"""Multi-view prompts: one prompt per azimuth, naming the side of the object the picture should show.

Text-to-image models know "side view" and "back view" better than angles, so each azimuth is
described in words; the shared suffix asks for what the normaliser needs (one whole object, centred,
on a plain background, evenly lit).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

STYLE = "single isolated object, whole object in frame, centered, plain white background, soft even studio lighting"
SIDES = ("front view", "front-left three-quarter view", "left side view", "back-left three-quarter view",
         "back view", "back-right three-quarter view", "right side view", "front-right three-quarter view")


def describe_azimuth(azimuth_deg: float) -> str:
    """The nearest of eight named sides, the object's own (azimuth 90 is the camera on +X: the object's left)."""
    return SIDES[round((azimuth_deg % 360.0) / 45.0) % 8]


def view_prompts(prompt: str, azimuths: list[float]) -> list[str]:
    """The prompt for each view, all sharing the subject and the style so the views agree."""
    subject = " ".join(prompt.split())
    return [f"{subject}, {describe_azimuth(a)}, {STYLE}" for a in azimuths]


class ViewsOptions(BaseModel):
    """Options every images provider takes: how many views to picture (evenly around the object)."""

    model_config = ConfigDict(extra="forbid")

    views: Literal[4, 8] = Field(4, description="pictures at 4 or 8 azimuths, evenly spaced from the front")
