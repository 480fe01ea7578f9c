"""API behaviour that needs no worker: validation, errors, idempotency, listing, readiness."""

from __future__ import annotations

import pytest

from apps.api import deps
from infra.local.stack import free_port


def post(client, body, **headers):
    return client.post("/v1/generations", json=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "env", "prompt": ""}, "validation_error"),
        ({"kind": "env", "prompt": "   "}, "validation_error"),
        ({"kind": "env", "prompt": "x" * 601}, "prompt_too_long"),
        ({"kind": "env"}, "validation_error"),
        ({"kind": "env", "prompt": "a", "providers": {"env": "no-such-provider"}}, "unknown_provider"),
        ({"kind": "env", "prompt": "a", "providers": {"reconstruct": "stub"}}, "invalid_request"),
        ({"kind": "env", "prompt": "a", "options": {"env": {"no_such_option": 1}}}, "invalid_options"),
        ({"kind": "env", "prompt": "a", "colour": "red"}, "validation_error"),
        ({"kind": "hologram", "prompt": "a"}, "validation_error"),
    ],
)
def test_bad_submissions_are_422_with_a_code(client, body, code):
    response = post(client, body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


def test_prompt_of_600_chars_is_accepted(client):
    assert post(client, {"kind": "env", "prompt": "x" * 600}).status_code == 202


def test_unknown_job_is_404_json(client):
    for path in ("", "/status", "/presigned", "/download", "/download/scene.glb"):
        response = client.get(f"/v1/generations/0123456789abcdef0123456789abcdef{path}")
        assert response.status_code == 404
        assert response.json()["code"] == "job_not_found"
    assert client.post("/v1/generations/nope/cancel").json()["code"] == "job_not_found"


def test_idempotency_key_returns_same_job_and_conflicts_on_new_body(client):
    body = {"kind": "env", "prompt": "an idempotent park"}
    first = post(client, body, **{"Idempotency-Key": "key-1"})
    again = post(client, body, **{"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 202
    assert first.json()["job_id"] == again.json()["job_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = post(client, {**body, "seed": 7}, **{"Idempotency-Key": "key-1"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert post(client, body).json()["job_id"] != first.json()["job_id"]


def test_list_is_paged_newest_first(client):
    ids = [post(client, {"kind": "env", "prompt": f"page test {i}"}).json()["job_id"] for i in range(3)]
    page = client.get("/v1/generations", params={"limit": 2}).json()
    assert [item["job_id"] for item in page["items"]] == ids[::-1][:2]
    assert page["next_offset"] == 2
    rest = client.get("/v1/generations", params={"limit": 1, "offset": 2}).json()
    assert rest["items"][0]["job_id"] == ids[0]
    assert client.get("/v1/generations", params={"limit": 0}).status_code == 422


def test_unknown_artifact_is_404(client):
    job_id = post(client, {"kind": "env", "prompt": "no artifacts yet"}).json()["job_id"]
    # Encoded slashes: a client would fold a literal "../" away before sending, and the route never sees it.
    response = client.get(f"/v1/generations/{job_id}/download/..%2F..%2Fetc%2Fpasswd")
    assert response.status_code == 404 and response.json()["code"] == "artifact_not_found"


def test_cancel_queued_job(client):
    job_id = post(client, {"kind": "env", "prompt": "cancel me"}).json()["job_id"]
    response = client.post(f"/v1/generations/{job_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "canceled"


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"broker": "ok", "job_store": "ok", "object_store": "ok"}


def test_ready_names_the_broker_when_it_is_down(client):
    import redis

    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    client.app.dependency_overrides[deps.redis_client] = lambda: dead
    try:
        response = client.get("/ready")
    finally:
        client.app.dependency_overrides.clear()
    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"
    assert "broker" in response.json()["message"]
    assert response.json()["detail"]["job_store"] == "ok"


def test_enqueue_failure_is_503_and_job_failed(client):
    from celery import Celery

    from shared.jobs import get_job_store
    from shared.pipeline.submission import JobSender, Submissions

    broken = Celery("broken", set_as_current=False)
    broken.conf.update(broker_url=f"redis://127.0.0.1:{free_port()}/0",
                       broker_connection_retry=False, broker_connection_max_retries=0,
                       broker_transport_options={"max_retries": 0})
    client.app.state.submissions = Submissions(get_job_store(), JobSender(broken))
    try:
        response = post(client, {"kind": "env", "prompt": "nowhere to go"})
    finally:
        del client.app.state.submissions
    assert response.status_code == 503 and response.json()["code"] == "broker_unavailable"
    jobs = client.get("/v1/generations", params={"limit": 1}).json()["items"]
    assert jobs[0]["status"] == "failed" and jobs[0]["request"]["prompt"] == "nowhere to go"


def test_cors_allows_the_configured_origin(client):
    response = client.options(
        "/v1/generations", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    )
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_garbage_plan_is_422_listing_field_paths(client):
    response = post(client, {"kind": "env", "plan": {"setting": 7, "objects": "many", "bogus": True}})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_plan"
    paths = {tuple(error["loc"]) for error in body["detail"]}
    assert ("objects",) in paths and ("bogus",) in paths


def test_valid_plan_is_accepted_and_normalised(client):
    from shared.envgen.rules import plan_from_prompt

    plan = plan_from_prompt("a sunny beach", seed=4).model_dump(mode="json")
    response = post(client, {"kind": "env", "plan": plan})
    assert response.status_code == 202, response.text
    job = client.get(f"/v1/generations/{response.json()['job_id']}").json()
    assert job["request"]["plan"] == plan


def test_unconfigured_cloud_provider_is_422_at_submit(client):
    response = post(client, {"kind": "env", "prompt": "a cave", "providers": {"env": "sagemaker"}})
    assert response.status_code == 422
    assert response.json()["code"] == "provider_unavailable"
    assert "S3" in response.json()["message"]


def test_openapi_declares_the_error_body_every_error_has(client):
    """A client generated from the document parses errors as ``ErrorBody``, the only error shape the API sends."""
    import jsonschema

    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's default 422 body: never sent, so never declared
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("4XX", "5XX"):
                content = operation["responses"][status]["content"]
                assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}, \
                    (method, path, status)
    invalid = post(client, {"kind": "env", "seed": "not a number"})
    assert invalid.status_code == 422
    jsonschema.validate(invalid.json(), {**schemas["ErrorBody"], "additionalProperties": False})
    assert invalid.json()["code"] == "validation_error"
    assert [entry["loc"] for entry in invalid.json()["detail"]] == [["body", "seed"]]


def test_submissions_take_the_direct_route_and_the_document_still_describes_them(client):
    from starlette.routing import Match

    from apps.api.routes import generations

    def first_full_match(method: str):
        scope = {"type": "http", "path": "/v1/generations", "root_path": "", "method": method}
        return next(route for route in client.app.router.routes if route.matches(scope)[0] == Match.FULL)

    assert first_full_match("POST") in generations.DIRECT_ROUTES
    assert first_full_match("POST").endpoint is generations.create_generation
    assert first_full_match("GET") not in generations.DIRECT_ROUTES  # only POST is taken early
    assert "items" in client.get("/v1/generations").json()
    operation = client.app.openapi()["paths"]["/v1/generations"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobCreate")
    assert "JobCreate" in client.app.openapi()["components"]["schemas"]
