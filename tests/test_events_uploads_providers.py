"""The event stream, uploads (sniffed, capped while streaming) and the providers listing."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image


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
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


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


def test_chunked_body_without_length_over_the_limit_is_413():
    from fastapi.testclient import TestClient

    from apps.api.main import create_app
    from shared.config import get_settings

    settings = get_settings()
    original = settings.max_request_bytes
    settings.max_request_bytes = 2048
    try:
        app = create_app()
    finally:
        settings.max_request_bytes = original

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
