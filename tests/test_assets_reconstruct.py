"""Reconstruction through real stage contexts: the relief from one photo, the visual hull of eight, stub meshes.

Geometry is checked from the delivered ``model.glb`` (trimesh), not from the providers' bookkeeping.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageDraw

from shared.config import Settings
from shared.errors import InvalidRequest, ProviderError
from shared.geometry.raster import rasterize
from shared.pipeline.assets import (
    IMAGES_PROGRESS,
    NORMALIZE_PROGRESS,
    POSTPROCESS_PROGRESS,
    RECONSTRUCT_PROGRESS,
    generate_images,
    normalize_images,
    post_process,
    reconstruct,
)
from tests.media import png_bytes
from tests.stage_jobs import StageJob

WIDTH, HEIGHT = 320, 240
BACKGROUND = (228, 230, 235)


def bottle_photo() -> tuple[Image.Image, np.ndarray]:
    """A lit bottle (round body, narrow neck) off-centre on a plain backdrop, and its exact mask."""
    mask_image = Image.new("L", (WIDTH, HEIGHT), 0)
    draw = ImageDraw.Draw(mask_image)
    draw.ellipse([110, 80, 210, 215], fill=255)
    draw.rectangle([147, 35, 173, 100], fill=255)
    mask = np.asarray(mask_image) > 0
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    light = np.clip(1.0 - np.hypot(cols - 145, rows - 120) / 110.0, 0.15, 1.0)  # a highlight up and to the left
    body = np.stack([40 + 190 * light, 90 + 120 * light, 50 + 40 * light], axis=2)
    pixels = np.where(mask[:, :, None], body, np.array(BACKGROUND, dtype=float))
    return Image.fromarray(pixels.astype(np.uint8)), mask


def cylinder_picture() -> tuple[Image.Image, int, int]:
    """An upright cylinder seen side-on (orthographic): a rectangle shaded like a lit curved wall."""
    picture = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    left, right, top, bottom = 115, 205, 30, 210
    for x in range(left, right):
        across = (x + 0.5 - (left + right) / 2) / ((right - left) / 2)
        shade = 0.25 + 0.75 * math.sqrt(max(0.0, 1.0 - across**2))
        draw.line([(x, top), (x, bottom - 1)], fill=(int(200 * shade), int(60 * shade), int(50 * shade)))
    return picture, right - left, bottom - top


def asset_settings(tmp_path: Path, **overrides) -> Settings:
    values = {"data_dir": tmp_path, "asset_view_size": 256, **overrides}
    return Settings(**values)


def image_to_3d(tmp_path: Path, pictures: list[Image.Image], options: dict | None = None,
                **request) -> StageJob:
    keys = [f"images/uploaded/photo_{n}.png" for n in range(len(pictures))]
    job = StageJob(tmp_path, "image_to_3d", {"images": keys, "options": options or {}, **request},
                   asset_settings(tmp_path), {"reconstruct": "relief"})
    for key, picture in zip(keys, pictures, strict=True):
        job.objects.put_bytes(key, png_bytes(picture))
    job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    job.run("reconstructing_3d", RECONSTRUCT_PROGRESS, reconstruct)
    job.run("post_processing", POSTPROCESS_PROGRESS, post_process)
    return job


def delivered_mesh(job: StageJob) -> trimesh.Trimesh:
    return trimesh.load(io.BytesIO(job.artifact("model.glb")), file_type="glb", force="mesh")


def silhouette_in_photo(mesh: trimesh.Trimesh, crop: list[float], shape: tuple[int, int] = (HEIGHT, WIDTH)
                        ) -> np.ndarray:
    """Where the mesh covers the photo, seen from the view's camera (orthographic along -Z, the view's crop)."""
    left, top, side = crop
    xy = np.stack([left + (mesh.vertices[:, 0] + 1) / 2 * side, top + (1 - mesh.vertices[:, 1]) / 2 * side], axis=1)
    triangle, _ = rasterize(xy[mesh.faces], np.ones((len(mesh.faces), 3)), shape[1], shape[0])
    return (triangle >= 0).reshape(shape)


def test_one_photo_gives_a_textured_solid_whose_silhouette_is_the_objects(tmp_path):
    photo, truth = bottle_photo()
    job = image_to_3d(tmp_path, [photo])

    mesh = delivered_mesh(job)
    [view] = json.loads(job.artifact("views.json"))["views"]
    seen = silhouette_in_photo(mesh, view["crop"])
    iou = (seen & truth).sum() / (seen | truth).sum()
    assert iou >= 0.9, iou

    assert mesh.visual.kind == "texture" and mesh.visual.uv.shape == (len(mesh.vertices), 2)
    texture = np.asarray(mesh.visual.material.baseColorTexture.convert("RGB"))
    assert texture.shape == (256, 512, 3)  # the photo for the front, beside the estimate for the back
    details = job.record["details"]["mesh"]
    assert details["uvs"] and details["watertight"] and not details["decimated"]
    assert details["faces"] == len(mesh.faces)
    front, back = mesh.vertices[:, 2].max(), -mesh.vertices[:, 2].min()
    assert back > 0.1 and front > back  # inflated both ways; the lit front bulges more than the plain back
    assert any("photo on the front" in note for note in job.record["notes"])


def test_an_object_photographed_on_grass_keeps_its_outline_and_none_of_the_grass(tmp_path):
    from shared.assets.sample_photos import object_photo

    photo = object_photo("barrel", "grass", 320, seed=1)
    job = image_to_3d(tmp_path, [photo.image])

    mesh = delivered_mesh(job)
    [view] = json.loads(job.artifact("views.json"))["views"]
    seen = silhouette_in_photo(mesh, view["crop"], photo.mask.shape)
    assert (seen & photo.mask).sum() / (seen | photo.mask).sum() >= 0.9
    # The colours the surface shows, front and sides: the barrel's wood and iron, not the grass around it.
    texture = np.asarray(mesh.visual.material.baseColorTexture.convert("RGB"), dtype=int)
    u, v = mesh.visual.uv[:, 0], mesh.visual.uv[:, 1]
    shown = texture[np.clip(((1 - v) * texture.shape[0]).astype(int), 0, texture.shape[0] - 1),
                    np.clip((u * texture.shape[1]).astype(int), 0, texture.shape[1] - 1)]
    grassy = (shown[:, 1] > shown[:, 0] + 10) & (shown[:, 1] > shown[:, 2] + 10)
    assert grassy.mean() < 0.005, grassy.mean()


def test_eight_silhouettes_of_a_cylinder_carve_a_hull_of_its_volume(tmp_path):
    picture, width_px, height_px = cylinder_picture()
    azimuths = [45.0 * n for n in range(8)]
    job = image_to_3d(tmp_path, [picture] * 8, {"reconstruct": {"azimuths": azimuths}})

    mesh = delivered_mesh(job)
    views = json.loads(job.artifact("views.json"))["views"]
    assert all(v["shared_crop"] for v in views)
    side = views[0]["crop"][2]
    radius, height = width_px / side, 2 * height_px / side  # view units: the crop's side spans 2
    cylinder = math.pi * radius**2 * height
    octagonal_prism = 8 * math.tan(math.pi / 8) * radius**2 * height  # the exact 8-view hull, 5.5 % larger
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(cylinder, rel=0.10)
    assert mesh.volume == pytest.approx(octagonal_prism, rel=0.03)
    assert np.ptp(mesh.vertices[:, 1]) == pytest.approx(height, rel=0.03)
    details = job.record["details"]["mesh"]
    assert details["vertex_colors"] and not details["uvs"]
    colours = mesh.visual.vertex_colors[:, :3].astype(int)
    assert (colours[:, 0] > 2 * colours[:, 1]).mean() > 0.95  # red from the views, not grey


def test_a_prompt_with_stub_images_becomes_the_named_solid(tmp_path):
    job = StageJob(tmp_path, "text_to_3d", {"prompt": "a green cube", "options": {"images": {"views": 8}}},
                   asset_settings(tmp_path, asset_view_size=192), {"images": "stub", "reconstruct": "relief"})
    job.run("generating_images", IMAGES_PROGRESS, generate_images)
    job.run("reconstructing_3d", RECONSTRUCT_PROGRESS, reconstruct)
    job.run("post_processing", POSTPROCESS_PROGRESS, post_process)

    index = json.loads(job.artifact("views.json"))
    assert [v["azimuth_deg"] for v in index["views"]] == [45.0 * n for n in range(8)]
    assert index["images_provider"] == "stub" and index["prompt"] == "a green cube"
    mesh = delivered_mesh(job)
    extents = mesh.extents
    assert extents.max() / extents.min() == pytest.approx(1.0, abs=0.06)  # as deep and wide as tall
    assert mesh.volume / np.prod(extents) > 0.9  # a box fills its bounds; a cylinder or sphere would not
    colour = np.median(mesh.visual.vertex_colors[:, :3], axis=0)
    assert colour[1] > 2 * colour[0] and colour[1] > 2 * colour[2]
    assert Image.open(io.BytesIO(job.artifact("thumbnail.png"))).size == (512, 384)
    assert job.record["details"]["views"] == 8


def test_the_stub_reconstructor_is_a_cube_in_the_objects_colour(tmp_path):
    photo, _ = bottle_photo()
    job = StageJob(tmp_path, "image_to_3d", {"images": ["images/uploaded/b.png"]}, asset_settings(tmp_path),
                   {"reconstruct": "stub"})
    job.objects.put_bytes("images/uploaded/b.png", png_bytes(photo))
    job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    job.run("reconstructing_3d", RECONSTRUCT_PROGRESS, reconstruct)
    raw = trimesh.load(io.BytesIO(job.artifact("reconstruction.glb")), file_type="glb", force="mesh")
    assert len(raw.faces) == 12 and raw.volume == pytest.approx(1.2**3)
    assert raw.visual.vertex_colors[0, 1] > raw.visual.vertex_colors[0, 2]  # greenish, from the photo


def test_provider_failures_are_clear(tmp_path):
    photo, _ = bottle_photo()
    job = StageJob(tmp_path, "image_to_3d", {"images": ["images/uploaded/b.png", "images/uploaded/b.png"],
                                             "options": {"reconstruct": {"azimuths": [0.0, 90.0, 180.0]}}},
                   asset_settings(tmp_path), {"reconstruct": "relief"})
    job.objects.put_bytes("images/uploaded/b.png", png_bytes(photo))
    job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    with pytest.raises(InvalidRequest, match="3 azimuths given for 2 views"):
        job.run("reconstructing_3d", RECONSTRUCT_PROGRESS, reconstruct)

    failing = StageJob(tmp_path / "stub", "text_to_3d", {"prompt": "a cup",
                                                         "options": {"images": {"fail_message": "no pictures"}}},
                       asset_settings(tmp_path), {"images": "faults", "reconstruct": "relief"})
    with pytest.raises(ProviderError, match="no pictures"):
        failing.run("generating_images", IMAGES_PROGRESS, generate_images)


def test_views_that_do_not_overlap_give_no_hull(tmp_path):
    left = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    ImageDraw.Draw(left).rectangle([10, 100, 40, 140], fill=(200, 0, 0))
    right = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    ImageDraw.Draw(right).rectangle([280, 100, 310, 140], fill=(200, 0, 0))
    with pytest.raises(ProviderError, match="do not overlap"):
        image_to_3d(tmp_path, [left, right], {"reconstruct": {"azimuths": [0.0, 0.0]}})
