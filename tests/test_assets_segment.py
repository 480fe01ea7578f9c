"""Photos with cluttered backgrounds -> a model of the subject alone, through real stage contexts.

The pictures are composites (``shared.assets.sample_photos``): a subject cut from one scikit-image
photograph under a known silhouette, pasted on another, so every check compares against the truth.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageDraw

from shared.assets.quality import iou
from shared.assets.sample_photos import Composite, composite, photo
from shared.config import Settings
from shared.errors import InvalidImage
from shared.geometry.raster import rasterize
from shared.pipeline.assets import (
    NORMALIZE_PROGRESS,
    POSTPROCESS_PROGRESS,
    RECONSTRUCT_PROGRESS,
    normalize_images,
    post_process,
    reconstruct,
)
from tests.media import png_bytes, turntable_photos
from tests.stage_jobs import StageJob

SIZE = 384  # composites are made at this width: enough for the checks, quick to segment


def settings_for(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, asset_view_size=256)


def photo_job(tmp_path: Path, pictures: list[Image.Image], options: dict | None = None,
              extra: dict[str, bytes] | None = None) -> StageJob:
    keys = [f"images/uploaded/photo_{n}.png" for n in range(len(pictures))]
    job = StageJob(tmp_path, "image_to_3d", {"images": keys, "options": options or {}}, settings_for(tmp_path),
                   {"reconstruct": "relief"})
    for key, picture in zip(keys, pictures, strict=True):
        job.objects.put_bytes(key, png_bytes(picture))
    for key, data in (extra or {}).items():
        job.objects.put_bytes(key, data)
    return job


def run_all(job: StageJob) -> StageJob:
    job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    job.run("reconstructing_3d", RECONSTRUCT_PROGRESS, reconstruct)
    job.run("post_processing", POSTPROCESS_PROGRESS, post_process)
    return job


def front_silhouette_in_photo(job: StageJob, shape: tuple[int, int]) -> np.ndarray:
    """Where the delivered model covers the source photo, seen from the front view's camera (undoing its crop)."""
    mesh = trimesh.load(io.BytesIO(job.artifact("model.glb")), file_type="glb", force="mesh")
    details = job.record["details"]
    entry = next(v for v in json.loads(job.artifact("views.json"))["views"] if v["name"] == details["front_view"])
    left, top, side = entry["crop"]
    x, y = mesh.vertices[:, 0] + details["front_offset"][0], mesh.vertices[:, 1] + details["front_offset"][1]
    xy = np.stack([left + (x + 1) / 2 * side, top + (1 - y) / 2 * side], axis=1)
    height, width = shape
    triangle, _ = rasterize(xy[mesh.faces], np.ones((len(mesh.faces), 3)), width, height)
    return (triangle >= 0).reshape(height, width)


def outside_truth(seen: np.ndarray, truth: np.ndarray, slack_px: int = 3) -> float:
    """Share of the model's silhouette that lies on the background, beyond ``slack_px`` of the true outline."""
    from scipy import ndimage

    near = ndimage.binary_dilation(truth, iterations=slack_px)
    return float((seen & ~near).sum()) / max(int(seen.sum()), 1)


@pytest.fixture(scope="module")
def on_brick() -> Composite:
    return composite(0, SIZE)  # the astronaut's suit under a blob outline, on brick


def test_a_subject_on_a_cluttered_photo_becomes_a_closed_body_of_its_outline(tmp_path, on_brick):
    job = run_all(photo_job(tmp_path, [on_brick.image]))

    seen = front_silhouette_in_photo(job, on_brick.mask.shape)
    assert iou(seen, on_brick.mask) >= 0.9
    assert outside_truth(seen, on_brick.mask) < 0.01  # the brick never became geometry
    details = job.record["details"]
    quality = details["quality"]
    assert quality["mask_method"] == "grabcut" and quality["watertight"]
    assert quality["faces"] == details["mesh"]["faces"]
    assert quality["mask_coverage"] == pytest.approx(on_brick.mask.mean(), abs=0.01)
    assert quality["front_silhouette_iou"] >= 0.9
    assert 0.2 < quality["depth_to_width"] < 0.7  # a rounded relief, not an egg
    assert details["reconstruction"]["method"] == "single view inflation"
    mask = np.asarray(Image.open(io.BytesIO(job.artifact("views/mask_0.png"))))
    assert mask.shape == on_brick.mask.shape  # the working size is the photo's own here
    assert iou(mask >= 128, on_brick.mask) >= 0.9


def test_the_body_is_smooth_closed_upright_centred_and_as_deep_as_asked(tmp_path, on_brick):
    deep = run_all(photo_job(tmp_path / "deep", [on_brick.image], {"reconstruct": {"shading_depth": 0}}))
    flat = run_all(photo_job(tmp_path / "flat", [on_brick.image],
                             {"reconstruct": {"shading_depth": 0, "depth_scale": 0.5}}))
    thick, thin = (trimesh.load(io.BytesIO(j.artifact("model.glb")), file_type="glb", force="mesh")
                   for j in (deep, flat))
    for mesh in (thick, thin):
        low, high = mesh.bounds
        assert np.abs(low[:2] + high[:2]).max() < 0.02  # centred on the outline's box
        assert high[1] - low[1] > high[0] - low[0]  # the outline is taller than wide, and so is the model: upright
        assert high[2] == pytest.approx(-low[2], rel=0.02)  # front and back equally deep without shading
    assert np.ptp(thin.vertices[:, 2]) == pytest.approx(0.5 * np.ptp(thick.vertices[:, 2]), rel=0.02)
    assert thick.visual.material.baseColorTexture.size == (512, 256)  # one texture: photo and back side by side
    assert deep.record["details"]["mesh"]["watertight"]


def test_an_rgba_picture_keeps_its_alpha(tmp_path, on_brick):
    cut = on_brick.image.convert("RGBA")
    cut.putalpha(Image.fromarray(on_brick.mask.astype(np.uint8) * 255))
    job = photo_job(tmp_path, [cut])
    job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    [entry] = json.loads(job.artifact("views.json"))["views"]
    assert entry["background"] == "alpha" and entry["segmentation"]["method"] == "alpha"
    mask = np.asarray(Image.open(io.BytesIO(job.artifact("views/mask_0.png")))) >= 128
    assert np.array_equal(mask, on_brick.mask)


def two_subjects() -> tuple[Image.Image, np.ndarray, np.ndarray]:
    """Grass with a large orange disc on the left and a small blue square on the right, and their masks."""
    picture = Image.fromarray(np.asarray(Image.fromarray(photo("grass")).resize((SIZE, 256))))
    draw = ImageDraw.Draw(picture)
    draw.ellipse([30, 60, 170, 200], fill=(230, 120, 30))
    draw.rectangle([260, 100, 329, 169], fill=(40, 60, 210))
    disc, square = (np.zeros((256, SIZE), dtype=bool) for _ in range(2))
    rows, cols = np.mgrid[0:256, 0:SIZE]
    disc[(cols - 100) ** 2 + (rows - 130) ** 2 <= 70**2] = True
    square[100:170, 260:330] = True
    return picture, disc, square


def test_a_box_or_a_mask_in_the_options_wins_over_the_automatic_cut(tmp_path):
    picture, disc, square = two_subjects()
    automatic = photo_job(tmp_path / "auto", [picture])
    automatic.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    found = np.asarray(Image.open(io.BytesIO(automatic.artifact("views/mask_0.png")))) >= 128
    assert iou(found, disc) > 0.9  # left alone, the cut takes the larger subject

    boxed = photo_job(tmp_path / "box", [picture], {"segment": {"pictures": [{"box": [250, 90, 340, 180]}]}})
    boxed.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    found = np.asarray(Image.open(io.BytesIO(boxed.artifact("views/mask_0.png")))) >= 128
    assert iou(found, square) > 0.9
    assert json.loads(boxed.artifact("views.json"))["views"][0]["segmentation"]["method"] == "box"

    given = Image.fromarray(square.astype(np.uint8) * 255).resize((SIZE // 2, 128), Image.Resampling.NEAREST)
    masked = photo_job(tmp_path / "mask", [picture], {"segment": {"pictures": [{"mask": "images/uploaded/m.png"}]}},
                       {"images/uploaded/m.png": png_bytes(given)})
    run_all(masked)
    found = np.asarray(Image.open(io.BytesIO(masked.artifact("views/mask_0.png")))) >= 128
    assert iou(found, square) > 0.95  # half size, the same shape: scaled up
    assert iou(front_silhouette_in_photo(masked, square.shape), square) > 0.9


def test_a_mask_of_another_shape_or_missing_fails_clearly(tmp_path):
    picture, _, _ = two_subjects()
    wrong = png_bytes(Image.new("L", (100, 100), 255))
    job = photo_job(tmp_path, [picture], {"segment": {"pictures": [{"mask": "images/uploaded/m.png"}]}},
                    {"images/uploaded/m.png": wrong})
    with pytest.raises(InvalidImage, match=r"the mask of image 1 .* is 100x100, not the picture's shape \(384x256"):
        job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)


@pytest.mark.parametrize(
    ("name", "pixels", "reason"),
    [
        ("noise", np.random.default_rng(3).integers(0, 256, (200, 300, 3), dtype=np.uint8),
         "nothing in the picture stands out"),
        ("plain field", np.full((200, 300, 3), (90, 140, 60), dtype=np.uint8), "one plain colour"),
        ("grass alone", photo("grass")[:300, :400], "nothing in the picture stands out|no subject"),
    ],
)
def test_a_picture_with_no_subject_fails_with_the_reason_not_a_slab(tmp_path, name, pixels, reason):
    job = photo_job(tmp_path, [Image.fromarray(pixels)])
    with pytest.raises(InvalidImage, match=rf"image 1 \(images/uploaded/photo_0.png\): .*({reason})"):
        job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    assert job.objects.list(job.key("")) == []


def test_a_subject_reaching_every_border_gives_a_noted_model_not_the_frame(tmp_path):
    """A disc of the astronaut photo larger than the picture: it reaches all four sides."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    truth = ((cols - SIZE / 2) / (SIZE * 0.6)) ** 2 + ((rows - SIZE / 2) / (SIZE * 0.6)) ** 2 <= 1
    subject = np.asarray(Image.fromarray(photo("astronaut")).resize((SIZE, SIZE)))
    brick = photo("brick")[:SIZE, :SIZE]
    picture = np.where(truth[:, :, None], subject, brick).astype(np.uint8)
    assert truth[0].any() and truth[-1].any() and truth[:, 0].any() and truth[:, -1].any()

    job = run_all(photo_job(tmp_path, [Image.fromarray(picture)]))
    seen = front_silhouette_in_photo(job, truth.shape)
    assert seen.mean() < 0.9  # never the whole frame
    assert outside_truth(seen, truth) < 0.05  # and not the brick corners
    assert any("fill the frame" in note and "cut off" in note for note in job.record["notes"])
    assert job.record["details"]["segmentation"][0]["touches_border"] is True


def test_a_horse_keeps_its_thin_legs_on_gravel():
    """At 1024 px the legs of the horse outline are a few pixels wide on GrabCut's copy: the cut keeps them."""
    from shared.assets.segment import automatic

    horse = composite(2, 1024)  # the cat's coat under the horse outline, on gravel
    found = automatic(np.asarray(horse.image)).alpha >= 0.5
    rows = np.flatnonzero(horse.mask.any(axis=1))
    legs = horse.mask.copy()
    legs[: rows[0] + int(0.7 * len(rows))] = False  # the lowest 30 % of the outline: the legs alone
    assert (found & legs).sum() >= 0.8 * legs.sum()
    assert iou(found, horse.mask) >= 0.85


def test_a_box_around_a_horse_keeps_its_legs():
    """A box the request gives is cut on a copy fine enough for legs a few pixels wide, not the coarse one."""
    from shared.assets.segment import in_box

    horse = composite(2, 1024)
    rows, cols = np.nonzero(horse.mask)
    found = in_box(np.asarray(horse.image), (cols.min() - 10, rows.min() - 10, cols.max() + 11, rows.max() + 11))
    legs = horse.mask.copy()
    legs[: rows.min() + int(0.7 * (rows.max() - rows.min() + 1))] = False
    assert found.method == "box"
    assert (found.alpha >= 0.5)[legs].mean() >= 0.8
    assert iou(found.alpha >= 0.5, horse.mask) >= 0.9


def test_a_suit_the_colour_of_the_saucer_beside_it_is_kept_with_the_head():
    """Only the astronaut's head stands out from a café table whose saucer is her suit's orange: the first
    cut reaches into the suit, and the second, started from it, takes the rest."""
    from shared.assets.segment import automatic

    astronaut = composite(115, 1024)  # the astronaut under a rounded square, on the coffee photo
    found = automatic(np.asarray(astronaut.image)).alpha >= 0.5
    lower = astronaut.mask.copy()
    rows = np.flatnonzero(astronaut.mask.any(axis=1))
    lower[: rows[0] + len(rows) // 2] = False  # the lower half of the outline: the suit
    assert (found & lower).sum() >= 0.9 * lower.sum()
    assert iou(found, astronaut.mask) >= 0.9


def test_a_close_up_whose_first_cuts_find_little_is_cut_from_the_whole_frame():
    """The cat's face fills scikit-image's photo: the all-round cut finds nothing to start a final cut from,
    the cuts with free sides find a part of the face, and the whole frame is cut instead, with a note."""
    from shared.assets.segment import automatic

    found = automatic(photo("chelsea"))
    assert found.method == "grabcut" and found.facts["touches_border"] is True
    assert 0.2 < float((found.alpha >= 0.5).mean()) < 0.6
    assert any("fill the frame" in note for note in found.notes)


def test_photos_without_cameras_fall_back_to_the_clearest_one_and_say_so(tmp_path):
    pictures = [composite(0, SIZE), composite(5, SIZE)]
    job = run_all(photo_job(tmp_path, [p.image for p in pictures]))
    details = job.record["details"]
    assert details["reconstruction"]["method"] == "single view inflation"
    assert "structure from motion" in details["reconstruction"]["why"]
    assert any(note.startswith("relief: no visual hull: structure from motion") for note in job.record["notes"])
    front = int(details["front_view"].removeprefix("view_").removesuffix(".png"))
    assert details["quality"]["front_silhouette_iou"] >= 0.9
    seen = front_silhouette_in_photo(job, pictures[front].mask.shape)
    assert iou(seen, pictures[front].mask) >= 0.85


def test_photos_around_a_textured_object_get_their_cameras_from_structure_from_motion(tmp_path):
    azimuths = [20.0 * n for n in range(8)]
    job = run_all(photo_job(tmp_path, turntable_photos(azimuths)))
    details = job.record["details"]
    reconstruction = details["reconstruction"]
    assert reconstruction["method"] == "visual hull" and reconstruction["poses"] == "structure from motion"
    assert np.abs(np.array(reconstruction["azimuths_deg"]) - azimuths).max() < 5.0
    assert details["mesh"]["watertight"] and details["quality"]["front_silhouette_iou"] > 0.9
    mesh = trimesh.load(io.BytesIO(job.artifact("model.glb")), file_type="glb", force="mesh")
    width, height, _ = mesh.extents
    assert height / width == pytest.approx(1.6 / 1.2, rel=0.1)  # the box's proportions, seen from the front
    assert any("(structure from motion)" in note for note in job.record["notes"])


def test_poisson_inflation_makes_a_disc_a_hemisphere_and_smoothness_rounds_corners():
    from shared.assets.quality import silhouette
    from shared.assets.relief import poisson_height, single_view_mesh
    from shared.assets.views import View

    rows, cols = np.mgrid[0:101, 0:101]
    disc = (rows - 50) ** 2 + (cols - 50) ** 2 <= 40**2
    height = np.sqrt(poisson_height(disc))
    assert height[50, 50] == pytest.approx(40, rel=0.03)  # sqrt(h) of a disc of radius 40 is 40 high at its centre
    assert height[50, 30] == pytest.approx(np.sqrt(40**2 - 20**2), rel=0.03)  # and round all the way

    square = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    ImageDraw.Draw(square).rectangle([48, 48, 207, 207], fill=(200, 80, 40, 255))
    view = View("view_0.png", square)
    sharp, round_ = (silhouette(single_view_mesh(view, 128, 0.0, 1.0, smoothness), 0.0, 256) for smoothness in (0, 1))
    truth = view.mask()
    assert iou(sharp, truth) > 0.97
    corner = np.zeros_like(truth)
    corner[48:64, 48:64] = True
    assert (round_ & corner).sum() < 0.8 * (sharp & corner).sum()  # the corners are cut round
    assert iou(round_, truth) > 0.9


def test_a_plateau_flattens_the_body_and_the_steep_sides_do_not_smear_the_outline():
    from shared.assets.relief import single_view_mesh
    from shared.assets.views import View

    picture = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    for sector in range(16):  # a ring of black and white stripes at the outline...
        draw.pieslice([28, 28, 227, 227], sector * 22.5, (sector + 1) * 22.5,
                      fill=(255, 255, 255, 255) if sector % 2 else (0, 0, 0, 255))
    draw.ellipse([40, 40, 215, 215], fill=(200, 80, 40, 255))  # ... round a plain face
    view = View("view_0.png", picture)
    egg, pebble = (single_view_mesh(view, 128, 0.0, 1.0, 0.0, plateau) for plateau in (1.0, 0.5))
    width = np.ptp(egg.vertices[:, 0])
    assert np.ptp(egg.vertices[:, 2]) == pytest.approx(width, rel=0.05)  # no plateau: a disc becomes a sphere
    assert np.ptp(pebble.vertices[:, 2]) < 0.55 * width  # levelled off at half its depth each side
    front = pebble.vertices[pebble.vertices[:, 2] > 0]
    radius = np.hypot(front[:, 0], front[:, 1]) / (width / 2)
    middle, halfway = front[radius < 0.1, 2].mean(), front[np.abs(radius - 0.5) < 0.05, 2].mean()
    assert halfway > 0.9 * middle  # a flat face, not a dome...
    assert front[np.abs(radius - 0.97) < 0.02, 2].mean() < 0.6 * middle  # ... with rounded edges

    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    rows, cols = np.round(127.5 + 97 * np.sin(angles)).astype(int), np.round(127.5 + 97 * np.cos(angles)).astype(int)
    stripes = np.asarray(picture.convert("L"), dtype=float)[rows, cols]
    texture = np.asarray(pebble.visual.material.baseColorTexture.convert("L"), dtype=float)
    # the stripes' texels are what the planar UVs spread over the steep side: there they fade to the blurred colours
    def sharpness(values: np.ndarray) -> float:
        return float(np.abs(np.diff(values)).max())

    assert sharpness(texture[rows, cols]) < 0.2 * sharpness(stripes)
    assert np.abs(texture[128, 128] - np.asarray(picture.convert("L"))[128, 128]).max() < 2  # the face keeps the photo
