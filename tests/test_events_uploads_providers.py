"""The event stream, uploads (sniffed, capped while streaming) and the providers listing."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.media import png_bytes as encode_png


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":") and ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


@pytest.mark.usefixtures("worker")
def test_event_stream_delivers_stages_in_order_and_closes_at_terminal(client):
    job_id = client.post("/v1/generations", json={"kind": "env", "prompt": "a market at dusk"}).json()["job_id"]
    with client.stream("GET", f"/v1/generations/{job_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    events = parse_sse(text)
    assert events[-1][0] == "status" and events[-1][1]["status"] == "completed"
    order = ["planning", "generating_scene", "finalizing"]
    stages = [order.index(data["stage"]) for _, data in events if data["stage"] in order]
    assert stages == sorted(stages)
    progress = [data["progress"] for _, data in events]
    assert progress == sorted(progress) and progress[-1] == 100
    assert sum(1 for _, data in events if data["status"] in ("completed", "failed", "canceled")) == 1


def test_event_stream_of_unknown_job_is_404(client):
    assert client.get("/v1/generations/ffffffffffffffffffffffffffffffff/events").status_code == 404


def png_bytes(size=(32, 24)) -> bytes:
    return encode_png(Image.new("RGB", size, (200, 30, 30)))


def test_upload_image_is_sniffed_and_stored(client, data_dir):
    data = png_bytes()
    response = client.post("/v1/uploads", files={"file": ("photo.txt", data, "text/plain")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/png" and body["bytes"] == len(data)
    assert body["key"] == f"images/uploaded/{body['upload_id']}.png"
    assert (data_dir / "objects" / body["key"]).read_bytes() == data


def test_upload_that_is_not_media_is_415(client):
    response = client.post("/v1/uploads", files={"file": ("evil.png", b"#!/bin/sh\nrm -rf /\n", "image/png")})
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"


def test_upload_over_the_image_cap_is_413(client, monkeypatch):
    from shared.config import get_settings

    monkeypatch.setattr(get_settings(), "max_image_upload_bytes", 100)
    response = client.post("/v1/uploads", files={"file": ("big.png", png_bytes((64, 64)), "image/png")})
    assert response.status_code == 413 and response.json()["code"] == "upload_too_large"


def _stored_uploads(data_dir) -> set[str]:
    folder = data_dir / "objects" / "images" / "uploaded"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def test_more_files_than_the_cap_in_one_upload_is_413_and_stores_nothing(client, data_dir):
    from shared.config import get_settings

    assert get_settings().max_upload_files == 1
    before = _stored_uploads(data_dir)
    two = [("file", ("a.png", png_bytes(), "image/png")), ("file", ("b.png", png_bytes((8, 8)), "image/png"))]
    response = client.post("/v1/uploads", files=two)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_many_files"
    assert "Maximum number of files is 1" in response.json()["message"]
    assert _stored_uploads(data_dir) == before
    one = client.post("/v1/uploads", files=two[:1], data={"note": "a stray text field is tolerated"})
    assert one.status_code == 201, one.text


def app_with(**overrides):
    """A fresh app built under other settings: the caps are read when the app is made."""
    from apps.api.main import create_app
    from shared.config import get_settings

    settings = get_settings()
    originals = {name: getattr(settings, name) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    try:
        return create_app()
    finally:
        for name, value in originals.items():
            setattr(settings, name, value)


def test_the_file_cap_is_a_setting_and_text_fields_are_capped_too():
    from fastapi.testclient import TestClient

    from apps.api.limits import FORM_MAX_FIELDS

    app = app_with(max_upload_files=3)
    images = [("file", (f"{i}.png", png_bytes(), "image/png")) for i in range(4)]
    fields = {f"field{i}": "x" for i in range(FORM_MAX_FIELDS + 1)}
    with TestClient(app) as client:
        assert client.post("/v1/uploads", files=images[:3]).status_code == 201
        assert client.post("/v1/uploads", files=images).json()["code"] == "too_many_files"
        too_many = client.post("/v1/uploads", files=images[:1], data=fields)
        too_long = client.post("/v1/uploads", files=images[:1], data={"note": "x" * (64 * 1024 + 1)})
        garbled = client.post("/v1/uploads", content=b"--x\r\nnot a part", headers={
            "content-type": "multipart/form-data; boundary=x"})
    assert too_many.status_code == 413 and too_many.json()["code"] == "too_many_fields"
    assert too_long.status_code == 413 and too_long.json()["code"] == "form_field_too_large"
    assert garbled.status_code == 400 and garbled.json()["code"] == "invalid_multipart"


def test_chunked_body_without_length_over_the_limit_is_413():
    from fastapi.testclient import TestClient

    app = app_with(max_request_bytes=2048)

    def body():  # a generator body goes out chunked, with no Content-Length to check up front
        for _ in range(100):
            yield b"x" * 1024

    with TestClient(app) as client:
        response = client.post("/v1/generations", content=body(), headers={"content-type": "application/json"})
        declared = client.post("/v1/generations", content=b"x" * 4096, headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"
    assert declared.status_code == 413


def test_providers_listing_names_defaults_and_options(client):
    listing = client.get("/v1/providers").json()
    env = listing["kinds"]["env"]
    assert env["plan"]["default"] == "rules" and env["env"]["default"] == "procedural"
    by_name = {choice["name"]: choice for choice in env["env"]["choices"]}
    assert by_name["procedural"]["available"] is True
    assert by_name["sagemaker"]["available"] is False and "S3" in by_name["sagemaker"]["unavailable_reason"]
    assert "glb_budget_bytes" in by_name["procedural"]["options_schema"]["properties"]
    assert "glb" in listing["output_formats"]


def test_the_server_reads_no_more_body_than_declared(live_api):
    """``BodySizeLimit`` counts only chunked bodies: behind uvicorn, bytes past a declared length are
    not body but the start of the next request, which is refused without reaching a route."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live_api)
    body = b'{"kind": "env", "prompt": "x"}' + b" " * (4 * 1024 * 1024)
    head = (f"POST /v1/generations HTTP/1.1\r\nHost: {address.hostname}\r\nContent-Type: application/json\r\n"
            "Content-Length: 30\r\n\r\n").encode()
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(head + body[:65536])
        replies = b""
        while b"HTTP/1.1 400" not in replies:
            chunk = connection.recv(65536)
            if not chunk:
                break
            replies += chunk
    statuses = [line.split()[1] for line in replies.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
    # The declared 30 bytes are a job (202, unless the server refused the rest first); the rest is
    # refused as a malformed request, never read as more body.
    assert statuses[-1] == b"400" and set(statuses) <= {b"202", b"400"} and statuses.count(b"202") <= 1
