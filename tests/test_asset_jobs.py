"""3D assets through the service: a photo made in code -> image_to_3d; a prompt -> text_to_3d."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageDraw

from tests.conftest import wait_for_status
from tests.media import png_bytes

pytestmark = pytest.mark.usefixtures("worker")


def object_photo() -> bytes:
    """A shaded orange disc on a plain grey background."""
    image = Image.new("RGB", (160, 160), (200, 200, 200))
    draw = ImageDraw.Draw(image)
    for radius, shade in ((50, 150), (40, 190), (28, 230)):
        draw.ellipse((80 - radius, 80 - radius, 80 + radius, 80 + radius), fill=(shade, shade // 2, 40))
    return png_bytes(image)


def test_photo_upload_to_a_textured_model(client):
    upload = client.post("/v1/uploads", files={"file": ("disc.png", object_photo(), "image/png")}).json()
    created = client.post("/v1/generations", json={"kind": "image_to_3d", "images": [upload["upload_id"]]})
    assert created.status_code == 202, created.text
    job = wait_for_status(client, created.json()["job_id"], timeout_s=120)
    assert job["status"] == "completed", job
    assert job["providers"] == {"reconstruct": "relief"}
    assert {"normalizing_images", "reconstructing_3d", "post_processing", "finalizing"} <= set(job["timings"])
    glb = client.get(f"/v1/generations/{job['job_id']}/download").content
    mesh = trimesh.load(io.BytesIO(glb), file_type="glb", force="mesh")
    assert len(mesh.faces) == job["details"]["mesh"]["faces"] > 100
    extent = np.ptp(mesh.bounds, axis=0)
    assert extent.max() > 0 and extent.min() > 0  # a solid, not a flat card


def test_a_mask_upload_is_recorded_as_its_object_key(client):
    photo = client.post("/v1/uploads", files={"file": ("disc.png", object_photo(), "image/png")}).json()
    mask = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(mask).ellipse((30, 30, 130, 130), fill=255)
    upload = client.post("/v1/uploads", files={"file": ("mask.png", png_bytes(mask), "image/png")}).json()
    body = {"kind": "image_to_3d", "images": [photo["upload_id"]], "use_cache": False,
            "options": {"segment": {"pictures": [{"mask": upload["upload_id"]}]}}}
    created = client.post("/v1/generations", json=body)
    assert created.status_code == 202, created.text
    job = wait_for_status(client, created.json()["job_id"], timeout_s=120)
    assert job["status"] == "completed", job
    assert job["request"]["options"]["segment"] == {"pictures": [{"mask": upload["key"]}]}
    assert job["details"]["segmentation"][0]["method"] == "mask"
    assert "views/mask_0.png" in job["artifacts"]


@pytest.mark.parametrize(
    ("pictures", "code", "message"),
    [
        ([None, {"box": [0, 0, 5, 5]}], "invalid_request", "2 pictures for 1 images"),
        ([{"mask": "0" * 32}], "invalid_request", "no uploaded image with id"),
        ([{"mask": "images/uploaded/nothing-here.png"}], "invalid_request", "nothing-here"),
        ([{"mask": "https://127.0.0.1/m.png"}], "url_refused", "loopback"),
    ],
)
def test_segment_hints_that_cannot_apply_are_refused_at_submit(client, pictures, code, message):
    photo = client.post("/v1/uploads", files={"file": ("disc.png", object_photo(), "image/png")}).json()
    body = {"kind": "image_to_3d", "images": [photo["upload_id"]], "options": {"segment": {"pictures": pictures}}}
    response = client.post("/v1/generations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code and message in response.json()["message"], response.json()


def test_prompt_to_obj_with_stub_views(client):
    body = {"kind": "text_to_3d", "prompt": "a red ceramic teapot", "output_format": "obj",
            "providers": {"images": "stub"}}
    job = wait_for_status(client, client.post("/v1/generations", json=body).json()["job_id"], timeout_s=120)
    assert job["status"] == "completed", job
    assert any(name.startswith("views/") for name in job["artifacts"])
    archive = client.get(f"/v1/generations/{job['job_id']}/download")
    assert archive.headers["content-disposition"].endswith('model.obj.zip"')
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert any(name.endswith(".obj") for name in names)


def test_prompt_to_the_factory_model_by_default(client):
    created = client.post("/v1/generations", json={"kind": "text_to_3d", "prompt": "a table lamp with a white shade"})
    assert created.status_code == 202, created.text
    job = wait_for_status(client, created.json()["job_id"], timeout_s=120)
    assert job["status"] == "completed", job
    assert job["providers"] == {"images": "factory", "reconstruct": "factory"}
    manifest = client.get(f"/v1/generations/{job['job_id']}/download/manifest.json").json()
    assert manifest["details"]["factory"]["category"] == "table_lamp"
    assert manifest["details"]["factory"]["materials"]["shade"]["color"] == "#f0f0ec"  # the prompt's white
    glb = client.get(f"/v1/generations/{job['job_id']}/download").content
    scene = trimesh.load(io.BytesIO(glb), file_type="glb")
    assert {"shade", "base", "stem", "bulb"} <= set(scene.geometry)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "text_to_3d"}, "validation_error"),
        ({"kind": "image_to_3d"}, "validation_error"),
        ({"kind": "image_to_3d", "images": ["x"] * 9}, "validation_error"),
        ({"kind": "image_to_3d", "image_urls": ["https://127.0.0.1/a.png"]}, "url_refused"),
        ({"kind": "image_to_3d", "image_urls": ["https://169.254.169.254/latest"]}, "url_refused"),
        ({"kind": "image_to_3d", "images": ["s3://someone-elses-bucket/a.png"]}, "invalid_request"),
        ({"kind": "image_to_3d", "images": ["0" * 32]}, "invalid_request"),
        ({"kind": "image_to_3d", "image_urls": ["https://example.com/a.png"],
          "options": {"segment": {"pictures": [{"box": [10, 10, 5, 50]}]}}}, "invalid_options"),
        ({"kind": "image_to_3d", "image_urls": ["https://example.com/a.png"],
          "options": {"segment": {"pictures": [{"box": [0, 0, 5, 5], "mask": "images/uploaded/m.png"}]}}},
         "invalid_options"),
        ({"kind": "image_to_3d", "image_urls": ["https://example.com/a.png"],  # JSON's NaN and Infinity
          "options": {"segment": {"pictures": [{"box": [0, 0, float("inf"), 5]}]}}}, "invalid_options"),
        ({"kind": "image_to_3d", "image_urls": ["https://example.com/a.png"],
          "options": {"segment": {"pictures": [{"box": [float("nan"), 0, 5, 5]}]}}}, "invalid_options"),
        ({"kind": "image_to_3d", "image_urls": ["https://example.com/a.png"],
          "options": {"reconstruct": {"azimuths": [float("nan")]}}}, "invalid_options"),
        ({"kind": "image_to_3d", "image_urls": ["https://example.com/a.png"], "providers": {"segment": "grabcut"}},
         "invalid_request"),
        ({"kind": "text_to_3d", "prompt": "a cup", "options": {"segment": {}}}, "invalid_request"),
    ],
)
def test_bad_asset_requests_are_422(client, body, code):
    # json.dumps, not the client's encoder: it writes NaN and Infinity, which a JSON parser may accept
    response = client.post("/v1/generations", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
