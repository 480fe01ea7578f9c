"""Frames for structure from motion: decode a video (PyAV) or read images, keep evenly spaced sharp ones.

Every candidate is scaled down to a common longest side and scored by the variance of its
Laplacian; the blurriest fraction is dropped (motion blur ruins SIFT matches), then the rest are
thinned evenly to the frame cap so the camera path stays covered end to end.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageOps

from shared.errors import InvalidRequest

MIN_FRAMES = 3
VIDEO_DEMUXERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm")
JPEG_QUALITY = 92
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class FrameLimits:
    """What an input may cost: refused before decoding when the container says so, else while decoding."""

    max_bytes: int
    max_duration_s: float
    max_pixels: int


@dataclass(frozen=True)
class Sampling:
    rate_fps: float
    max_frames: int
    max_side: int
    blur_drop_fraction: float

    @property
    def max_candidates(self) -> int:
        """Candidates to decode so that, after the blurry ones go, about ``max_frames`` remain."""
        return math.ceil(self.max_frames / (1.0 - self.blur_drop_fraction))


@dataclass(frozen=True)
class Frame:
    path: Path
    source: str  # the video timestamp ("12.500s") or the source image's key
    sharpness: float

    def as_dict(self, name: str) -> dict[str, Any]:
        return {"name": name, "source": self.source, "sharpness": round(self.sharpness, 3)}


def sharpness(rgb: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of the luma: low for blurred frames."""
    luma = rgb[..., 0] * np.float32(0.299) + rgb[..., 1] * np.float32(0.587) + rgb[..., 2] * np.float32(0.114)
    lap = luma[1:-1, :-2] + luma[1:-1, 2:] + luma[:-2, 1:-1] + luma[2:, 1:-1] - 4.0 * luma[1:-1, 1:-1]
    return float(lap.var())


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size with the longest side at most ``max_side``, kept even (video scalers want even sizes)."""
    factor = min(1.0, max_side / max(width, height))
    return max(2, round(width * factor / 2) * 2), max(2, round(height * factor / 2) * 2)


def _write_candidate(rgb: np.ndarray, path: Path) -> float:
    Image.fromarray(rgb).save(path, "JPEG", quality=JPEG_QUALITY)
    return sharpness(rgb.astype(np.float32))


def probe_video(path: Path, limits: FrameLimits) -> dict[str, Any]:
    """Container facts of an mp4/mov/webm file; refuses anything else and anything over the limits."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InvalidRequest(f"the video is {size} bytes, over the limit of {limits.max_bytes}")
    try:
        with av.open(str(path)) as container:
            if container.format.name not in VIDEO_DEMUXERS:
                raise InvalidRequest(f"the input is not an mp4, mov or webm video (format {container.format.name!r})")
            if not container.streams.video:  # e.g. a file cut off inside its header: the track is not there
                raise InvalidRequest("the file holds no readable video track (is it cut short?)")
            stream = container.streams.video[0]
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            info = {"format": container.format.name, "codec": stream.codec_context.name,
                    "width": stream.codec_context.width, "height": stream.codec_context.height,
                    "duration_s": duration, "bytes": size}
    except av.FFmpegError as error:
        raise InvalidRequest(f"the input is not a readable video: {error}") from None
    if info["width"] * info["height"] > limits.max_pixels:
        raise InvalidRequest(f"the video is {info['width']}x{info['height']}, over the limit of "
                             f"{limits.max_pixels} pixels per frame")
    if duration is not None and duration > limits.max_duration_s:
        raise InvalidRequest(f"the video lasts {duration:.1f} s, over the limit of {limits.max_duration_s:g} s")
    return info


def sample_video(path: Path, out_dir: Path, info: dict[str, Any], limits: FrameLimits, sampling: Sampling,
                 progress: Progress) -> list[Frame]:
    """Decode once, keeping one frame per sampling interval as a scaled JPEG candidate in ``out_dir``.

    The rate drops below ``sampling.rate_fps`` when the video is long enough that the cap would
    otherwise keep only its start.
    """
    duration = info["duration_s"]
    rate = sampling.rate_fps if not duration else min(sampling.rate_fps, sampling.max_candidates / duration)
    interval = 1.0 / rate
    width, height = scaled_size(info["width"], info["height"], sampling.max_side)
    frames: list[Frame] = []
    start: float | None = None
    next_time = 0.0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                stamp = frame.time if frame.time is not None else index / float(stream.average_rate or 30)
                start = stamp if start is None else start
                time = stamp - start
                if time > limits.max_duration_s:
                    raise InvalidRequest(f"the video lasts over {limits.max_duration_s:g} s, the limit")
                if frame.width * frame.height > limits.max_pixels:
                    raise InvalidRequest(f"a video frame is {frame.width}x{frame.height}, over the limit of "
                                         f"{limits.max_pixels} pixels")
                if time + 1e-6 < next_time:
                    continue
                while next_time <= time + 1e-6:
                    next_time += interval
                rgb = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
                target = out_dir / f"candidate_{len(frames):05d}.jpg"
                frames.append(Frame(target, f"{time:.3f}s", _write_candidate(rgb, target)))
                # Without a known duration, the cap is the only bound on how far decoding may go.
                progress(min(1.0, time / (duration or limits.max_duration_s)), f"decoded {time:.1f} s of video")
    except av.FFmpegError as error:
        raise InvalidRequest(f"the video could not be decoded: {error}") from None
    return frames


def load_images(paths: Sequence[tuple[str, Path]], out_dir: Path, limits: FrameLimits,
                sampling: Sampling) -> list[Frame]:
    """Candidates from still images (``(key, local path)`` in capture order), scaled like video frames."""
    frames: list[Frame] = []
    for index, (key, path) in enumerate(paths):
        try:
            with Image.open(path) as image:
                if image.width * image.height > limits.max_pixels:
                    raise InvalidRequest(f"frame {key} is {image.width}x{image.height}, over the limit of "
                                         f"{limits.max_pixels} pixels")
                rgb_image = ImageOps.exif_transpose(image).convert("RGB")
        except (OSError, Image.DecompressionBombError) as error:
            raise InvalidRequest(f"frame {key} is not a readable image: {error}") from None
        size = scaled_size(rgb_image.width, rgb_image.height, sampling.max_side)
        if size != rgb_image.size:
            rgb_image = rgb_image.resize(size, Image.Resampling.BOX)
        target = out_dir / f"candidate_{index:05d}.jpg"
        frames.append(Frame(target, key, _write_candidate(np.asarray(rgb_image), target)))
    return frames


def evenly(count: int, keep: int) -> list[int]:
    """``keep`` indices spread evenly over ``range(count)``, first and last included."""
    if keep >= count:
        return list(range(count))
    return sorted({round(i) for i in np.linspace(0, count - 1, keep)})


def select_frames(frames: list[Frame], sampling: Sampling) -> tuple[list[Frame], int]:
    """Drop the blurriest fraction, then thin evenly to the cap; returns the kept frames and the number dropped."""
    if len(frames) < MIN_FRAMES:
        raise InvalidRequest(f"only {len(frames)} frame(s) could be taken from the input; at least "
                             f"{MIN_FRAMES} are needed (a longer video, or a higher frame rate)")
    drop = min(int(len(frames) * sampling.blur_drop_fraction), len(frames) - MIN_FRAMES)
    blurry = set(np.argsort([f.sharpness for f in frames], kind="stable")[:drop].tolist())
    sharp = [f for i, f in enumerate(frames) if i not in blurry]
    return [sharp[i] for i in evenly(len(sharp), sampling.max_frames)], drop


def thumbnail_jpeg(image: bytes, max_side: int = 512) -> bytes:
    """A small JPEG of a frame, for job lists."""
    with Image.open(io.BytesIO(image)) as source:
        small = source.convert("RGB")
    small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return out.getvalue()
