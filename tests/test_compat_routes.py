"""The multi-view reference's ``/3d/…`` routes over the same jobs as ``/v1/generations``."""

from __future__ import annotations

import http.server
import threading

import pytest

from shared.config import get_settings
from tests.conftest import poll
from tests.media import png_bytes as encode_png


def png_bytes() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 96), (240, 240, 240))
    ImageDraw.Draw(image).rectangle((24, 16, 72, 80), fill=(30, 90, 200))
    return encode_png(image)


@pytest.fixture(scope="module")
def picture_server():
    """A PNG at http://localhost:PORT/x.png, served from loopback (FETCH_ALLOW_HOSTS names localhost)."""
    body = png_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()


def follow(client, job_id: str, timeout_s: float = 50) -> tuple[dict, list[str]]:
    """Poll ``/3d/status`` until the job ends; the last reply and every state seen, in order."""
    seen: list[str] = []

    def status() -> dict:
        body = client.get(f"/3d/status/{job_id}").json()
        if not seen or seen[-1] != body["state"]:
            seen.append(body["state"])
        return body

    body = poll(status, lambda body: body["state"] in ("completed", "failed"), timeout_s, f"job {job_id} to end",
                interval_s=0.03)
    return body, seen


def test_prompt_to_a_downloadable_glb(client, worker):
    reply = client.post("/3d/generate", json={"prompt": "a red cube", "output_format": "glb"})
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    assert reply.json()["status_url"].endswith(f"/3d/status/{job_id}")
    body, seen = follow(client, job_id)
    assert body["state"] == "completed", body
    assert body["asset_path"] == f"jobs/{job_id}/model.glb"
    order = ["queued", "generating_images", "reconstructing_3d", "post_processing", "completed"]
    assert [state for state in order if state in seen] == seen, seen
    download = client.get(f"/3d/download/{job_id}")
    assert download.status_code == 200 and download.content[:4] == b"glTF"
    assert client.get(f"/v1/generations/{job_id}").json()["kind"] == "text_to_3d"


def test_picture_url_to_a_model(client, worker, picture_server):
    reply = client.post("/3d/from-image", json={"image_urls": [f"{picture_server}/x.png"], "output_format": "stl"})
    assert reply.status_code == 202, reply.text
    body, _ = follow(client, reply.json()["job_id"])
    assert body["state"] == "completed", body
    assert body["asset_path"].endswith("/model.stl")
    assert client.get(f"/3d/download/{body['job_id']}").content[:5] != b"glTF"


def test_picture_path_under_the_inputs_folder(client, worker):
    inputs = get_settings().resolved_inputs_dir
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "box.png").write_bytes(png_bytes())
    reply = client.post("/3d/from-image", json={"image_paths": ["box.png"]})
    assert reply.status_code == 202, reply.text
    body, _ = follow(client, reply.json()["job_id"])
    assert body["state"] == "completed", body


def test_with_texture_is_taken_and_checked_as_on_v1(client, worker):
    """``with_texture`` reaches the job (false: a plain material, said in its notes); true for STL is the same
    422 ``texture_unsupported`` as on /v1/generations."""
    inputs = get_settings().resolved_inputs_dir
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "box.png").write_bytes(png_bytes())
    reply = client.post("/3d/from-image", json={"image_paths": ["box.png"], "output_format": "obj",
                                                 "with_texture": False})
    assert reply.status_code == 202, reply.text
    body, _ = follow(client, reply.json()["job_id"])
    assert body["state"] == "completed", body
    job = client.get(f"/v1/generations/{body['job_id']}").json()
    assert job["request"]["with_texture"] is False
    assert any("with_texture=false" in note for note in job["notes"])
    refused = client.post("/3d/generate", json={"prompt": "a mug", "output_format": "stl", "with_texture": True})
    assert refused.status_code == 422 and refused.json()["code"] == "texture_unsupported"


@pytest.mark.parametrize("path", ["../../../etc/passwd", "/etc/passwd", "box/../../x.png"])
def test_paths_outside_the_inputs_folder_are_422(client, path):
    reply = client.post("/3d/from-image", json={"image_paths": [path]})
    assert reply.status_code == 422 and "inputs folder" in reply.json()["message"]


def test_bodies_and_unknown_jobs(client):
    assert client.post("/3d/from-image", json={"output_format": "glb"}).status_code == 422
    assert client.post("/3d/generate", json={"prompt": "x", "quality_tier": "ultra"}).status_code == 422
    assert client.get("/3d/status/nope").status_code == 404
    assert client.get("/3d/download/nope").status_code == 404
