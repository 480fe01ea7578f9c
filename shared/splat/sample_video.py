"""A video that structure-from-motion can solve, made in code: for the demo and the tests.

A textured box in a textured room, ray-cast in numpy from a camera orbiting the box, encoded to
H.264 with PyAV. Multi-scale colour noise gives SIFT corners at every zoom level, so every frame
registers; nothing is downloaded and the result is the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

WIDTH, HEIGHT, FRAMES = 480, 360, 24
ROOM = (np.array([-4.0, 0.0, -4.0]), np.array([4.0, 3.0, 4.0]))
BOX = (np.array([-0.6, 0.0, -0.6]), np.array([0.6, 1.2, 0.6]))


def noise_texture(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    """Colour noise at several scales: SIFT finds corners at every zoom level."""
    texture = np.zeros((size, size, 3), np.float32)
    for cells, weight in ((8, 0.45), (32, 0.35), (128, 0.3), (256, 0.15)):
        noise = Image.fromarray((rng.random((cells, cells, 3)) * 255).astype(np.uint8))
        texture += weight * np.asarray(noise.resize((size, size), Image.Resampling.BICUBIC), np.float32) / 255
    return np.clip(texture / 1.25, 0, 1)


def shade(points: np.ndarray, axis: np.ndarray, side: np.ndarray, box: tuple, textures: list) -> np.ndarray:
    """Bilinear texture lookup on the face (axis, side) of an axis-aligned box each point lies on."""
    low, high = box
    colour = np.zeros((len(points), 3), np.float32)
    for a in range(3):
        u, v = [k for k in range(3) if k != a]
        for s in (0, 1):
            on = (axis == a) & (side == s)
            texture = textures[a * 2 + s]
            n = texture.shape[0] - 1.001
            fx = (points[on, u] - low[u]) / (high[u] - low[u]) * n
            fy = (points[on, v] - low[v]) / (high[v] - low[v]) * n
            x0, y0 = np.clip(fx, 0, n).astype(int), np.clip(fy, 0, n).astype(int)
            wx, wy = (fx - x0)[:, None], (fy - y0)[:, None]
            colour[on] = ((texture[y0, x0] * (1 - wx) + texture[y0, x0 + 1] * wx) * (1 - wy)
                          + (texture[y0 + 1, x0] * (1 - wx) + texture[y0 + 1, x0 + 1] * wx) * wy)
    return colour


def render(eye: np.ndarray, target: np.ndarray, textures: list, focal: float = 420.0) -> np.ndarray:
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    xs, ys = np.meshgrid((np.arange(WIDTH) + 0.5 - WIDTH / 2) / focal, (np.arange(HEIGHT) + 0.5 - HEIGHT / 2) / focal)
    rays = (forward + xs[..., None] * right - ys[..., None] * up).reshape(-1, 3)
    rows = np.arange(len(rays))
    with np.errstate(divide="ignore", invalid="ignore"):
        near = [(low - eye) / rays for low in (ROOM[0], BOX[0])]
        far = [(high - eye) / rays for high in (ROOM[1], BOX[1])]
        exits = np.maximum(near[0], far[0])  # inside the room: the first wall a ray leaves through
        room_t, room_axis = exits.min(axis=1), exits.argmin(axis=1)
        entries = np.minimum(near[1], far[1])  # slab test: the box is hit if the last entry precedes the first exit
        box_t, box_axis = entries.max(axis=1), entries.argmax(axis=1)
        box_hit = (box_t <= np.maximum(near[1], far[1]).min(axis=1)) & (box_t > 0)
    colour = shade(eye + rays * room_t[:, None], room_axis, rays[rows, room_axis] > 0, ROOM, textures[:6])
    hits = np.nonzero(box_hit)[0]
    colour[hits] = shade(eye + rays[hits] * box_t[hits, None], box_axis[hits], rays[hits, box_axis[hits]] < 0, BOX,
                         textures[6:])
    return (colour.reshape(HEIGHT, WIDTH, 3) * 255).astype(np.uint8)


def orbit_frames() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    textures = [noise_texture(rng) for _ in range(12)]
    frames = []
    for i in range(FRAMES):
        angle = np.radians(-60 + 120 * i / (FRAMES - 1))
        eye = np.array([2.6 * np.sin(angle), 1.6, 2.6 * np.cos(angle)])
        frames.append(render(eye, np.array([0.0, 0.6, 0.0]), textures))
    return frames


def encode_video(frames: list[np.ndarray], path: Path, fps: int, codec: str = "libx264",
                 container_options: dict[str, str] | None = None) -> Path:
    """Encode RGB frames (even sizes) with PyAV; ``path``'s suffix picks the container."""
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "16", "preset": "veryfast"}
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path


def render_orbit_video(path: Path, fps: int = 2) -> Path:
    """Write the orbit (FRAMES frames of WIDTH x HEIGHT) to ``path`` and return it.

    At 2 fps, the default sampling rate takes every frame.
    """
    return encode_video(orbit_frames(), path, fps=fps)
