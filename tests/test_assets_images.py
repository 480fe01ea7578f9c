"""Image normalisation of image_to_3d jobs through real stage contexts: caps, orientation, cut-out, crop."""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shared.assets.images import decode_image
from shared.config import Settings
from shared.errors import ImageTooLarge, InvalidImage, InvalidRequest, UrlRefused
from shared.pipeline.assets import NORMALIZE_PROGRESS, normalize_images
from tests.media import png_bytes
from tests.stage_jobs import StageJob
from tests.test_assets_fetch import Recorder, serve

VIEW = 128


def bomb_png(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG: a few kB on disk, width x height pixels once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def settings_for(tmp_path: Path, **overrides) -> Settings:
    values = {"data_dir": tmp_path, "asset_view_size": VIEW, "asset_view_margin": 0.1, "fetch_allow_hosts": "localhost",
              **overrides}
    return Settings(**values)


def image_job(tmp_path: Path, pictures: dict[str, bytes], urls: list[str] | None = None, **overrides) -> StageJob:
    request = {"images": list(pictures), **({"image_urls": urls} if urls else {})}
    job = StageJob(tmp_path, "image_to_3d", request, settings_for(tmp_path, **overrides), {"reconstruct": "relief"})
    for key, data in pictures.items():
        job.objects.put_bytes(key, data)
    return job


def normalise_job(job: StageJob) -> list[dict]:
    job.run("normalizing_images", NORMALIZE_PROGRESS, normalize_images)
    return json.loads(job.artifact("views.json"))["views"]


def view_mask(job: StageJob, name: str = "view_0.png") -> np.ndarray:
    image = Image.open(io.BytesIO(job.artifact(f"views/{name}")))
    assert image.mode == "RGBA" and image.size == (VIEW, VIEW)
    return np.asarray(image.getchannel("A")) >= 128


def box_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


@pytest.fixture
def server() -> Iterator[Recorder]:
    yield from serve()


def test_a_decompression_bomb_is_a_clear_error_and_nothing_is_stored(tmp_path):
    job = image_job(tmp_path, {"images/uploaded/bomb.png": bomb_png(20_000, 20_000)})
    with pytest.raises(ImageTooLarge, match=r"400000000 pixels, over the limit of 40000000 pixels"):
        normalise_job(job)
    assert job.objects.list(f"jobs/{job.job_id}/") == []


def test_a_picture_over_our_cap_but_under_pillows_is_refused_with_its_size():
    with pytest.raises(ImageTooLarge, match=r"image 1 is 3000x2000, over the limit of 5000000 pixels"):
        decode_image(bomb_png(3000, 2000), 5_000_000, "image 1")


def test_a_file_that_is_no_image_is_refused(tmp_path):
    job = image_job(tmp_path, {"images/uploaded/notes.png": b"\x89PNG\r\n\x1a\n not really"})
    with pytest.raises(InvalidImage, match=r"image 1 \(images/uploaded/notes.png\) is not an image"):
        normalise_job(job)


def test_an_image_over_the_byte_limit_is_refused_before_reading(tmp_path):
    picture = png_bytes(Image.new("RGB", (64, 64), (200, 0, 0)))
    job = image_job(tmp_path, {"images/uploaded/a.png": picture}, max_image_upload_bytes=len(picture) - 1)
    with pytest.raises(InvalidRequest, match="bytes, over the limit of"):
        normalise_job(job)


def test_plain_background_object_is_cut_out_centred_and_padded_square(tmp_path):
    picture = Image.new("RGB", (300, 200), (250, 250, 250))
    ImageDraw.Draw(picture).rectangle([10, 20, 69, 139], fill=(30, 90, 200))  # 60 x 120, in a corner
    job = image_job(tmp_path, {"images/uploaded/corner.png": png_bytes(picture)})
    [entry] = normalise_job(job)

    assert entry["background"] == "#fafafa" and entry["azimuth_deg"] is None and entry["shared_crop"] is False
    left, top, side = entry["crop"]
    assert side == pytest.approx(120 / 0.8, rel=0.01)  # the 300 px picture is worked on at 256 px
    assert left + side / 2 == pytest.approx(40, abs=1) and top + side / 2 == pytest.approx(80, abs=1)
    x0, y0, x1, y1 = box_of(view_mask(job))
    assert (x0 + x1) / 2 == pytest.approx(VIEW / 2, abs=1) and (y0 + y1) / 2 == pytest.approx(VIEW / 2, abs=1)
    assert y1 - y0 == pytest.approx(0.8 * VIEW, abs=2) and x1 - x0 == pytest.approx(0.4 * VIEW, abs=2)


def test_alpha_is_the_mask_when_the_picture_has_one(tmp_path):
    picture = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(picture).ellipse([50, 50, 149, 149], fill=(250, 250, 250, 255))  # white on "white"
    job = image_job(tmp_path, {"images/uploaded/cut.png": png_bytes(picture)})
    [entry] = normalise_job(job)
    assert entry["background"] == "alpha"
    mask = view_mask(job)
    assert mask.mean() == pytest.approx(np.pi / 4 * 0.8**2, rel=0.05)


def test_exif_orientation_is_applied_before_cropping(tmp_path):
    stored = Image.new("RGB", (200, 100), (255, 255, 255))
    ImageDraw.Draw(stored).rectangle([40, 30, 159, 69], fill=(200, 30, 30))  # wide as stored: 120 x 40
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    out = io.BytesIO()
    stored.save(out, format="JPEG", exif=exif, quality=95)
    job = image_job(tmp_path, {"images/uploaded/turned.jpg": out.getvalue()})
    [entry] = normalise_job(job)
    assert entry["source_size"] == [100, 200]
    x0, y0, x1, y1 = box_of(view_mask(job))
    assert (y1 - y0) > 2.5 * (x1 - x0)  # upright: tall, not wide


def test_views_of_one_size_share_one_crop_so_scale_is_kept(tmp_path):
    pictures = {}
    for number, half_width in enumerate((20, 50)):
        picture = Image.new("RGB", (200, 200), (255, 255, 255))
        ImageDraw.Draw(picture).rectangle([100 - half_width, 40, 99 + half_width, 159], fill=(20, 120, 60))
        pictures[f"images/uploaded/side_{number}.png"] = png_bytes(picture)
    job = image_job(tmp_path, pictures)
    entries = normalise_job(job)
    assert [e["shared_crop"] for e in entries] == [True, True] and entries[0]["crop"] == entries[1]["crop"]
    narrow, wide = (box_of(view_mask(job, e["name"])) for e in entries)
    assert narrow[3] - narrow[1] == wide[3] - wide[1]
    assert (wide[2] - wide[0]) == pytest.approx(2.5 * (narrow[2] - narrow[0]), rel=0.05)


def test_urls_are_fetched_through_the_guard(tmp_path, server):
    picture = Image.new("RGB", (120, 120), (255, 255, 255))
    ImageDraw.Draw(picture).ellipse([30, 30, 89, 89], fill=(200, 120, 0))
    server_body = png_bytes(picture)

    class PictureHandler(server.RequestHandlerClass):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(server_body)))
            self.end_headers()
            self.wfile.write(server_body)

    server.RequestHandlerClass = PictureHandler
    url = f"http://localhost:{server.port}/object.png"
    job = image_job(tmp_path, {}, urls=[url])
    [entry] = normalise_job(job)
    assert entry["source"] == url and entry["background"] == "#ffffff"


def test_a_url_to_loopback_fails_the_stage_and_reaches_nothing(tmp_path, server):
    job = image_job(tmp_path, {}, urls=[f"https://127.0.0.1:{server.port}/object.png"])
    with pytest.raises(UrlRefused, match="loopback"):
        normalise_job(job)
    assert server.connections == 0


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("variant", ["cmyk jpeg", "16-bit grey png", "palette png", "8-bit grey png"])
def test_unusual_pixel_formats_find_the_same_subject_as_plain_rgb(tmp_path, variant):
    from shared.assets.sample_photos import composite

    photo = composite(0, 256)
    grey = np.asarray(photo.image.convert("L"))
    encoded = {
        "cmyk jpeg": lambda: _encoded(photo.image.convert("CMYK"), "JPEG", quality=95),
        "16-bit grey png": lambda: _encoded(Image.fromarray(grey.astype(np.uint16) * 257), "PNG"),
        "palette png": lambda: _encoded(photo.image.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "8-bit grey png": lambda: _encoded(Image.fromarray(grey), "PNG"),
    }[variant]()
    reference = png_bytes(photo.image.convert("L") if "grey" in variant else photo.image)
    masks = []
    for name, data in (("reference", reference), (variant.replace(" ", "_"), encoded)):
        job = image_job(tmp_path / name, {"images/uploaded/picture": data})
        normalise_job(job)
        masks.append(np.asarray(Image.open(io.BytesIO(job.artifact("views/mask_0.png")))) >= 128)
    assert masks[0].mean() > 0.02  # a subject, not an empty mask
    assert (masks[0] & masks[1]).sum() / (masks[0] | masks[1]).sum() > 0.95


def test_a_truncated_picture_is_a_clear_error(tmp_path):
    data = png_bytes(Image.new("RGB", (200, 200), (10, 200, 30)))
    job = image_job(tmp_path, {"images/uploaded/cut.png": data[: len(data) // 2]})
    with pytest.raises(InvalidImage, match=r"image 1 \(images/uploaded/cut.png\) could not be decoded"):
        normalise_job(job)
