"""The CPU thumbnail renderer: depth order, clipping, framing and colours (its speed is in make bench's reach,
not a test's)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from PIL import Image

from shared.envgen.procedural import build_scene, render_thumbnail
from shared.envgen.rules import plan_from_prompt
from shared.geometry.camera import Camera
from shared.geometry.render import Lighting, render_mesh_thumbnail

FLAT = Lighting(directional=(), ambient=(1.0, 1.0, 1.0))  # unshaded: a pixel shows its albedo
WHITE_SKY = ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0))


def pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "RGB"
    return np.asarray(image)


def quad(z: float, color: tuple[int, int, int], size: float = 1.0) -> trimesh.Trimesh:
    mesh = trimesh.Trimesh([[-size, -size, z], [size, -size, z], [size, size, z], [-size, size, z]],
                           [[0, 1, 2], [0, 2, 3]], process=False)
    mesh.visual.face_colors = (*color, 255)
    return mesh


def test_scene_thumbnail_is_a_picture_not_a_flat_colour():
    plan = plan_from_prompt("a forest at dawn", 4)
    glb, info = build_scene(plan)
    camera = Camera(tuple(info["camera"]["position"]), tuple(info["camera"]["target"]), info["camera"]["fov_deg"])
    image = pixels(render_thumbnail(plan, glb, camera))
    assert image.shape == (384, 512, 3)
    assert image.std() > 10
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 200
    sky_row, ground_row = image[2].mean(axis=0), image[-2].mean(axis=0)
    assert np.abs(sky_row - ground_row).sum() > 30, "top of the picture is sky, bottom is ground"


@pytest.mark.parametrize("order", ["near_first", "far_first"])
def test_nearer_surface_wins_whatever_the_drawing_order(order: str):
    near, far = quad(0.5, (255, 0, 0)), quad(-0.5, (0, 0, 255), size=6.0)
    scene = trimesh.Scene([near, far] if order == "near_first" else [far, near])
    camera = Camera((0.0, 0.0, 5.0), (0.0, 0.0, 0.0), 60.0)
    image = pixels(render_mesh_thumbnail(scene, 64, 48, camera, lighting=FLAT, background=WHITE_SKY))
    assert tuple(image[24, 32]) == (255, 0, 0)
    assert tuple(image[24, 4]) == (0, 0, 255), "the far quad shows around the near one"


def test_triangles_crossing_the_camera_plane_are_clipped_not_dropped():
    ground = trimesh.Trimesh([[-50, 0, -50], [50, 0, -50], [50, 0, 50], [-50, 0, 50]], [[0, 2, 1], [0, 3, 2]],
                             process=False)
    ground.visual.face_colors = (0, 255, 0, 255)
    camera = Camera((0.0, 1.0, 0.0), (0.0, 0.0, -10.0), 60.0)
    image = pixels(render_mesh_thumbnail(ground, 64, 48, camera, lighting=FLAT, background=WHITE_SKY))
    assert (image[-1] == (0, 255, 0)).all(), "the ground under the camera reaches the bottom row"
    assert (image[0] == (255, 255, 255)).all(), "sky above the horizon"


def test_automatic_framing_shows_the_whole_mesh():
    box = trimesh.creation.box(extents=(4.0, 1.0, 2.0))
    box.visual.face_colors = (200, 40, 40, 255)
    image = pixels(render_mesh_thumbnail(box, 160, 120, background=WHITE_SKY))
    covered = (image != 255).any(axis=2)
    assert covered.mean() > 0.05
    assert not covered[0].any() and not covered[-1].any() and not covered[:, 0].any() and not covered[:, -1].any()


def test_glb_bytes_and_scene_render_alike():
    box = trimesh.creation.box()
    box.visual.vertex_colors = np.where(box.vertices[:, :1] > 0, [255, 0, 0, 255], [0, 0, 255, 255])
    scene = trimesh.Scene([box])
    camera = Camera((3.0, 2.0, 4.0), (0.0, 0.0, 0.0), 40.0)
    from_scene = pixels(render_mesh_thumbnail(scene, 96, 72, camera))
    from_glb = pixels(render_mesh_thumbnail(scene.export(file_type="glb"), 96, 72, camera))
    assert np.abs(from_scene.astype(int) - from_glb.astype(int)).max() <= 2
    reds, blues = from_scene[..., 0] > 2 * from_scene[..., 2], from_scene[..., 2] > 2 * from_scene[..., 0]
    assert reds.sum() > 100 and blues.sum() > 100, "vertex colours reach the picture"


def test_emission_glows_in_the_dark():
    dark = Lighting(directional=(), ambient=(0.0, 0.0, 0.0))
    glow = trimesh.creation.box()
    glow.visual = trimesh.visual.TextureVisuals(material=trimesh.visual.material.PBRMaterial(
        baseColorFactor=(10, 10, 10, 255), emissiveFactor=(1.0, 0.5, 0.0)))
    image = pixels(render_mesh_thumbnail(glow, 64, 48, lighting=dark, background=((0, 0, 0), (0, 0, 0))))
    assert image[..., 0].max() == 255 and image[..., 2].max() < 30


def test_a_hundred_thousand_triangles_render():
    sphere = trimesh.creation.icosphere(subdivisions=5)  # 20480 faces
    sphere.visual.face_colors = (180, 160, 90, 255)
    scene = trimesh.Scene()
    for i in range(5):
        scene.add_geometry(sphere.copy(), transform=trimesh.transformations.translation_matrix((2.2 * i, 0, 0)))
    assert sum(len(g.faces) for g in scene.geometry.values()) >= 100_000
    image = pixels(render_mesh_thumbnail(scene, 512, 384))
    assert (image != image[0, 0]).any(axis=2).mean() > 0.1
