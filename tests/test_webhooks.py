"""Webhooks: signed in the Standard Webhooks scheme, retried until the receiver takes them, logged,
and refused at submit when they point at loopback or private addresses not on the allow-list."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.local.stack import wait_until
from shared.config import get_settings
from shared.pipeline.webhooks import signature, verify
from tests.conftest import wait_for_status


class Receiver:
    """A real HTTP receiver on loopback that fails its first ``failures`` deliveries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.deliveries: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = 500 if len(receiver.deliveries) < receiver.failures else 204
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    server = Receiver(failures=2)
    yield server
    server.server.shutdown()


@pytest.mark.usefixtures("worker")
def test_a_receiver_that_fails_twice_gets_the_third_delivery_signed(client, receiver):
    body = {"kind": "env", "prompt": "a hooked park", "providers": {"plan": "stub", "env": "stub"},
            "webhook_url": f"http://localhost:{receiver.port}/hook", "webhook_events": ["completed"]}
    job_id = client.post("/v1/generations", json=body).json()["job_id"]
    assert wait_for_status(client, job_id)["status"] == "completed"
    wait_until(lambda: len(receiver.deliveries) >= 3, 30, "three webhook deliveries")
    statuses = [status for _, _, status in receiver.deliveries]
    assert statuses[:3] == [500, 500, 204]
    headers, raw, _ = receiver.deliveries[2]
    assert verify(get_settings().webhook_secret, headers, raw)
    assert {h["webhook-id"] for h, _, _ in receiver.deliveries} == {headers["webhook-id"]}
    payload = json.loads(raw)
    assert payload["type"] == "job.completed" and payload["data"]["job_id"] == job_id
    assert not verify(get_settings().webhook_secret, headers, raw + b" ")
    wait_until(lambda: len(client.get(f"/v1/generations/{job_id}").json()["webhooks"]) >= 3, 10, "the delivery log")
    log = client.get(f"/v1/generations/{job_id}").json()["webhooks"]
    assert [(entry["attempt"], entry["ok"]) for entry in log] == [(1, False), (2, False), (3, True)]


def test_signature_matches_the_standard_webhooks_reference_vector():
    # The published example of the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "https://10.0.0.1/hook",
                                 "https://169.254.169.254/latest/meta-data", "http://[::1]:9/"])
def test_webhooks_to_private_addresses_are_refused_at_submit(client, url):
    response = client.post("/v1/generations", json={"kind": "env", "prompt": "x", "webhook_url": url})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "url_refused"
