"""The ``segment`` options of an ``image_to_3d`` job: a mask or a box per picture, overriding the automatic cut.

Import-light (pydantic only): the API validates them at submit. Mask pictures are references like
the job's images (upload id, object key, ``s3://`` URI or URL) and are fetched under the same limits.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

SEGMENT_OPTIONS = "segment"
Coordinate = Annotated[float, Field(allow_inf_nan=False)]  # NaN or infinity would reach the cut as pixel numbers


class SubjectHint(BaseModel):
    """Where the subject of one picture is: a mask picture, or a box GrabCut searches inside."""

    model_config = ConfigDict(extra="forbid")

    mask: str | None = Field(None, min_length=1, max_length=2048,
                             description="A mask picture of the same shape: white (or opaque) is the subject.")
    box: tuple[Coordinate, Coordinate, Coordinate, Coordinate] | None = Field(
        None, description="left, top, right, bottom in the upright picture's pixels")

    @model_validator(mode="after")
    def _one_of(self) -> SubjectHint:
        if (self.mask is None) == (self.box is None):
            raise ValueError("give either a mask or a box for a picture")
        if self.box is not None:
            left, top, right, bottom = self.box
            if min(self.box) < 0 or right <= left or bottom <= top:
                raise ValueError("a box is left, top, right, bottom with right > left, bottom > top, none negative")
        return self


class SegmentOptions(BaseModel):
    """One entry per input picture, in order (``images`` then ``image_urls``); null leaves that one automatic."""

    model_config = ConfigDict(extra="forbid")

    pictures: list[SubjectHint | None] = Field(default_factory=list, max_length=8)
