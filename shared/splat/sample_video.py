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


def look_at(eye: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera rotation and translation (OpenCV axes: x right, y down, z forward) of a camera at
    ``eye`` looking at ``target`` with the world's +y up."""
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    rotation = np.stack([right, -up, forward])
    return rotation, -rotation @ eye


def cast(eye: np.ndarray, target: np.ndarray, textures: list, focal: float = 420.0, width: int = WIDTH,
         height: int = HEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """The surface point each pixel's ray hits and its colour in 0..1, row-major (height * width, 3) each."""
    rotation, _ = look_at(eye, target)
    right, down, forward = rotation
    xs, ys = np.meshgrid((np.arange(width) + 0.5 - width / 2) / focal, (np.arange(height) + 0.5 - height / 2) / focal)
    rays = (forward + xs[..., None] * right + ys[..., None] * down).reshape(-1, 3)
    rows = np.arange(len(rays))
    with np.errstate(divide="ignore", invalid="ignore"):
        near = [(low - eye) / rays for low in (ROOM[0], BOX[0])]
        far = [(high - eye) / rays for high in (ROOM[1], BOX[1])]
        exits = np.maximum(near[0], far[0])  # inside the room: the first wall a ray leaves through
        room_t, room_axis = exits.min(axis=1), exits.argmin(axis=1)
        entries = np.minimum(near[1], far[1])  # slab test: the box is hit if the last entry precedes the first exit
        box_t, box_axis = entries.max(axis=1), entries.argmax(axis=1)
        box_hit = (box_t <= np.maximum(near[1], far[1]).min(axis=1)) & (box_t > 0)
    points = eye + rays * room_t[:, None]
    colour = shade(points, room_axis, rays[rows, room_axis] > 0, ROOM, textures[:6])
    hits = np.nonzero(box_hit)[0]
    points[hits] = eye + rays[hits] * box_t[hits, None]
    colour[hits] = shade(points[hits], box_axis[hits], rays[hits, box_axis[hits]] < 0, BOX, textures[6:])
    return points, colour


def render(eye: np.ndarray, target: np.ndarray, textures: list, focal: float = 420.0, width: int = WIDTH,
           height: int = HEIGHT) -> np.ndarray:
    _, colour = cast(eye, target, textures, focal, width, height)
    return (colour.reshape(height, width, 3) * 255).astype(np.uint8)


def orbit_eye(i: int, frames: int = FRAMES) -> np.ndarray:
    """Camera position of frame ``i`` of an orbit of ``frames``: 120 degrees around the box, looking at it."""
    angle = np.radians(-60 + 120 * i / (frames - 1))
    return np.array([2.6 * np.sin(angle), 1.6, 2.6 * np.cos(angle)])


ORBIT_TARGET = np.array([0.0, 0.6, 0.0])


def orbit_frames(frames: int = FRAMES, textures: list | None = None, focal: float = 420.0, width: int = WIDTH,
                 height: int = HEIGHT) -> list[np.ndarray]:
    """The orbit's frames; noise textures unless ``textures`` (12 square float RGB arrays) are given."""
    if textures is None:
        rng = np.random.default_rng(7)
        textures = [noise_texture(rng) for _ in range(12)]
    return [render(orbit_eye(i, frames), ORBIT_TARGET, textures, focal, width, height) for i in range(frames)]


def photo_textures(size: int = 512) -> list[np.ndarray]:
    """Twelve textures cut from scikit-image's sample photographs (walls, floor, ceiling, the box's faces)."""
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.brick(), data.grass(),
              data.gravel(), data.immunohistochemistry(), data.hubble_deep_field()]
    textures = []
    for i in range(12):
        photo = photos[i % len(photos)]
        if photo.ndim == 2:
            photo = np.repeat(photo[..., None], 3, axis=2)
        image = Image.fromarray(photo[..., :3])
        if i >= len(photos):  # the box's faces reuse photos: mirror them so no two faces match
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        textures.append(np.asarray(image.resize((size, size), Image.Resampling.BICUBIC), np.float32) / 255)
    return textures


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


def render_orbit_video(path: Path, fps: int = 2, textures: list | None = None) -> Path:
    """Write the orbit (FRAMES frames of WIDTH x HEIGHT, noise textures unless ``textures``) to ``path``.

    At 2 fps, the default sampling rate takes every frame.
    """
    return encode_video(orbit_frames(textures=textures), path, fps=fps)
