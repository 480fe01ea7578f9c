"""CPU thumbnails of meshes and scenes: no display, no GPU, numpy only.

Colours follow glTF: material factors and vertex colours are linear, textures are sRGB; shading is
done in linear light and the image is written as sRGB. Lighting is two-sided Lambert (thumbnails
of assets with inconsistent winding still look solid) plus emission, with optional point lights
and exponential fog.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import trimesh
from PIL import Image

from shared.geometry.camera import Camera, frame_bounds
from shared.geometry.raster import NEAR, clip_near, rasterize

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class DirectionalLight:
    direction: tuple[float, float, float]  # where the light travels
    color: RGB = (1.0, 1.0, 1.0)  # linear
    intensity: float = 1.0


@dataclass(frozen=True)
class PointLight:
    position: tuple[float, float, float]
    color: RGB = (1.0, 1.0, 1.0)
    intensity: float = 1.0  # irradiance at 1 m; falls off with the square of the distance


@dataclass(frozen=True)
class Lighting:
    directional: tuple[DirectionalLight, ...] = (DirectionalLight((-0.45, -1.0, -0.6), intensity=0.85),)
    points: tuple[PointLight, ...] = ()
    ambient: RGB = (0.3, 0.31, 0.34)
    fog_color: RGB = (0.7, 0.75, 0.8)  # linear
    fog_density: float = 0.0  # per scene unit


DEFAULT_BACKGROUND: tuple[RGB, RGB] = ((0.62, 0.72, 0.86), (0.9, 0.92, 0.95))  # sRGB top, bottom


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def _as_scene(source: trimesh.Scene | trimesh.Trimesh | bytes) -> trimesh.Scene:
    if isinstance(source, bytes | bytearray | memoryview):
        return trimesh.load(io.BytesIO(bytes(source)), file_type="glb", force="scene")
    if isinstance(source, trimesh.Trimesh):
        return trimesh.Scene([source])
    return source


def _texture_colors(material: object, uv: np.ndarray | None) -> np.ndarray | None:
    """Linear RGB of a material's base-colour texture at each vertex, if it has one."""
    image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    if image is None or uv is None:
        return None
    pixels = np.asarray(image.convert("RGB"), dtype=float) / 255.0
    h, w = pixels.shape[:2]
    col = np.clip((uv[:, 0] % 1.0) * (w - 1), 0, w - 1).round().astype(int)
    row = np.clip((1.0 - uv[:, 1] % 1.0) * (h - 1), 0, h - 1).round().astype(int)
    return srgb_to_linear(pixels[row, col])


def mesh_colors(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    """Linear base colour per face corner (F,3,3) and emission per face (F,3)."""
    faces, visual = mesh.faces, mesh.visual
    emissive = np.zeros((len(faces), 3))
    if visual.kind == "face":
        corner = np.repeat(np.asarray(visual.face_colors, dtype=float)[:, None, :3] / 255.0, 3, axis=1)
        return corner, emissive
    if visual.kind == "vertex":
        return np.asarray(visual.vertex_colors, dtype=float)[faces][:, :, :3] / 255.0, emissive
    vertex = np.ones((len(mesh.vertices), 3))
    material = getattr(visual, "material", None)
    if material is not None:
        factor = getattr(material, "baseColorFactor", None)
        if factor is None:
            factor = getattr(material, "main_color", None)
        if factor is not None:
            vertex = vertex * np.asarray(factor, dtype=float)[:3] / 255.0
        texture = _texture_colors(material, getattr(visual, "uv", None))
        if texture is not None:
            vertex = vertex * texture
        glow = getattr(material, "emissiveFactor", None)
        if glow is not None:
            emissive[:] = np.asarray(glow, dtype=float)[:3]
    attributes = getattr(visual, "vertex_attributes", {})
    if "color" in attributes and len(attributes["color"]) == len(vertex):
        vertex = vertex * np.asarray(attributes["color"], dtype=float)[:, :3] / 255.0
    return vertex[faces], emissive


def scene_triangles(source: trimesh.Scene | trimesh.Trimesh | bytes) -> tuple[np.ndarray, ...]:
    """World-space corners (F,3,3), corner colours (F,3,3) and face emission (F,3) of every mesh."""
    scene = _as_scene(source)
    corners, colors, glows = [], [], []
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        mesh = scene.geometry.get(name)
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        world = trimesh.transform_points(mesh.vertices, transform)
        color, glow = mesh_colors(mesh)
        corners.append(world[mesh.faces])
        colors.append(color)
        glows.append(glow)
    if not corners:
        empty = np.zeros((0, 3, 3))
        return empty, empty, np.zeros((0, 3))
    return np.concatenate(corners), np.concatenate(colors), np.concatenate(glows)


def _sky(width: int, height: int, background: tuple[RGB, RGB]) -> np.ndarray:
    top, bottom = np.asarray(background[0]), np.asarray(background[1])
    t = np.linspace(0.0, 1.0, height)[:, None, None]
    return np.broadcast_to(top + (bottom - top) * t, (height, width, 3))


def _shade(normal: np.ndarray, albedo: np.ndarray, glow: np.ndarray, point: np.ndarray, eye: np.ndarray,
           lighting: Lighting) -> np.ndarray:
    """Linear radiance of each drawn pixel."""
    to_eye = eye - point
    distance = np.linalg.norm(to_eye, axis=1, keepdims=True)
    normal = np.where((normal * to_eye).sum(axis=1, keepdims=True) < 0, -normal, normal)
    light = np.broadcast_to(np.asarray(lighting.ambient, dtype=float), albedo.shape).copy()
    for sun in lighting.directional:
        towards = -np.asarray(sun.direction, dtype=float)
        towards /= np.linalg.norm(towards)
        light += np.clip(normal @ towards, 0, None)[:, None] * np.asarray(sun.color) * sun.intensity
    for lamp in lighting.points:
        offset = np.asarray(lamp.position) - point
        d2 = np.maximum((offset * offset).sum(axis=1), 1e-4)
        cosine = np.clip((normal * offset).sum(axis=1) / np.sqrt(d2), 0, None)
        light += (cosine * lamp.intensity / np.maximum(d2, 1.0))[:, None] * np.asarray(lamp.color)
    color = albedo * light + glow
    if lighting.fog_density > 0:
        keep = np.exp(-lighting.fog_density * distance)
        color = color * keep + np.asarray(lighting.fog_color) * (1 - keep)
    return color


def render_mesh_thumbnail(
    scene_or_glb_bytes: trimesh.Scene | trimesh.Trimesh | bytes,
    width: int = 512,
    height: int = 384,
    camera: Camera | None = None,
    *,
    lighting: Lighting | None = None,
    background: tuple[RGB, RGB] = DEFAULT_BACKGROUND,
) -> bytes:
    """PNG of the scene seen by ``camera`` (default: framing the whole scene), over a sky gradient."""
    corners, colors, glows = scene_triangles(scene_or_glb_bytes)
    lighting = lighting or Lighting()
    if camera is None:
        bounds = (np.stack([corners.reshape(-1, 3).min(0), corners.reshape(-1, 3).max(0)])
                  if len(corners) else np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]))
        camera = frame_bounds(bounds, width / height)
    image = _sky(width, height, background).reshape(-1, 3).copy()

    basis, eye = camera.basis(), np.asarray(camera.position, dtype=float)
    view = (corners - eye) @ basis.T
    edge1, edge2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    normals = np.cross(edge1, edge2)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-20)
    view, attributes, source = clip_near(view, np.concatenate([colors, corners], axis=2), NEAR)
    if len(view):
        focal = (height / 2) / math.tan(math.radians(camera.fov_deg) / 2)
        depth = view[:, :, 2]
        xy = np.stack([width / 2 + focal * view[:, :, 0] / depth, height / 2 - focal * view[:, :, 1] / depth], -1)
        triangle, weights = rasterize(xy, 1.0 / depth, width, height)
        drawn = np.flatnonzero(triangle >= 0)
        tri = triangle[drawn]
        blended = np.einsum("pk,pkc->pc", weights[drawn], attributes[tri])
        radiance = _shade(normals[source[tri]], blended[:, :3], glows[source[tri]], blended[:, 3:], eye, lighting)
        image[drawn] = linear_to_srgb(radiance)
    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8).reshape(height, width, 3)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG")
    return out.getvalue()

