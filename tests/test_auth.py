"""API keys: required everywhere but /health when configured, hashed, per-owner jobs, rate limited;
the OpenAPI document needs a key too unless PUBLIC_DOCS, and its HTML pages are then not served."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from apps.api.auth import hash_key
from apps.api.main import create_app
from apps.api.routes import docs
from shared.config import Settings, get_settings

# Served without a key even when keys are configured: liveness, and signed file URLs (their signature
# is the credential). The static viewer (a Mount, in no route list) holds no data.
PUBLIC_PATHS = {"/health", "/v1/files/{key}"}
DOCS_PAGES = (docs.SWAGGER_PATH, docs.OAUTH2_REDIRECT_PATH, docs.REDOC_PATH)
PATH_PARAM_VALUES = {"job_id": "0123456789abcdef0123456789abcdef", "artifact": "scene.glb"}


def keyed_client(**overrides) -> TestClient:
    settings = get_settings().model_copy(update={"api_keys": {"alice": hash_key("alice-key"),
                                                              "bob": hash_key("bob-key")}, **overrides})
    return TestClient(create_app(settings))


@pytest.fixture
def keyed(redis_server):
    with keyed_client() as client:
        yield client


def every_operation(client: TestClient) -> set[tuple[str, str]]:
    """(method, path template) of every route: the OpenAPI document's operations plus the docs routes,
    which the document leaves out. Read from the app itself, so a route added later is covered."""
    operations = {(method.upper(), path) for path, item in client.app.openapi()["paths"].items() for method in item}
    operations |= {(method, route.path) for route in docs.router.routes for method in route.methods}
    return operations


def test_every_route_but_health_and_signed_files_needs_a_key(keyed):
    assert keyed.get("/health").status_code == 200
    operations = every_operation(keyed)
    assert {("GET", "/openapi.json"), ("POST", "/v1/generations"), ("GET", "/v1/files/{key}")} <= operations
    checked = []
    for method, template in sorted(operations):
        if template in PUBLIC_PATHS or template in DOCS_PAGES:
            continue
        path = re.sub(r"\{(\w+)\}", lambda match: PATH_PARAM_VALUES.get(match[1], "x"), template)
        response = keyed.request(method, path, json={"kind": "env", "prompt": "x"} if method == "POST" else None)
        assert response.status_code == 401, (method, template, response.text)
        assert response.json()["code"] == "missing_api_key"
        assert "WWW-Authenticate" in response.headers
        checked.append(template)
    assert len(checked) >= 18, checked
    for page in DOCS_PAGES:  # not served at all: they could not send the key when fetching the document
        response = keyed.get(page, headers={"X-API-Key": "alice-key"})
        assert (response.status_code, response.json()["code"]) == (404, "docs_not_public"), page


def test_signed_file_urls_need_no_key_but_their_signature(keyed):
    response = keyed.get("/v1/files/jobs/x/scene.glb", params={"expires": 1, "signature": "0"})
    assert (response.status_code, response.json()["code"]) == (403, "invalid_signature")


def test_openapi_document_needs_a_key_unless_docs_are_public(keyed, redis_server):
    missing = keyed.get("/openapi.json")
    assert (missing.status_code, missing.json()["code"]) == (401, "missing_api_key")
    assert keyed.get("/openapi.json", headers={"X-API-Key": "wrong"}).json()["code"] == "invalid_api_key"
    document = keyed.get("/openapi.json", headers={"X-API-Key": "alice-key"})
    assert document.status_code == 200 and document.json() == keyed.app.openapi()

    with keyed_client(public_docs=True) as public:
        assert public.get("/openapi.json").json()["paths"]
        for page in DOCS_PAGES:
            assert public.get(page).status_code == 200, page
        assert "/openapi.json" in public.get(docs.SWAGGER_PATH).text
        assert public.get("/v1/generations").status_code == 401


def test_without_keys_the_document_and_its_pages_are_public(client):
    assert client.get("/openapi.json").json()["info"]["title"] == "MMF"
    for page in DOCS_PAGES:
        response = client.get(page)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"], page
    assert "/openapi.json" in client.get(docs.REDOC_PATH).text


def test_keys_are_checked_and_never_taken_from_the_query_string(keyed):
    assert keyed.get("/v1/generations", headers={"X-API-Key": "wrong"}).json()["code"] == "invalid_api_key"
    assert keyed.get("/v1/generations", params={"api_key": "alice-key"}).status_code == 401
    assert keyed.get("/v1/generations", headers={"X-API-Key": "alice-key"}).status_code == 200


def test_a_key_sees_only_its_own_jobs(keyed):
    alice, bob = {"X-API-Key": "alice-key"}, {"X-API-Key": "bob-key"}
    created = keyed.post("/v1/generations", json={"kind": "env", "prompt": "alice's park"}, headers=alice)
    job_id = created.json()["job_id"]
    assert keyed.get(f"/v1/generations/{job_id}", headers=alice).status_code == 200
    for path in ("", "/status", "/presigned", "/download/scene.glb", "/events"):
        response = keyed.get(f"/v1/generations/{job_id}{path}", headers=bob)
        assert response.status_code == 404 and response.json()["code"] == "job_not_found"
    assert keyed.post(f"/v1/generations/{job_id}/cancel", headers=bob).status_code == 404
    assert job_id not in {job["job_id"] for job in keyed.get("/v1/generations", headers=bob).json()["items"]}
    assert job_id in {job["job_id"] for job in keyed.get("/v1/generations", headers=alice).json()["items"]}


def test_rate_limit_per_key_answers_429_with_retry_after(redis_server):
    with keyed_client(rate_limit_per_minute=3) as client:
        bob = {"X-API-Key": "bob-key"}
        codes = [client.get("/v1/providers", headers=bob).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        limited = client.get("/v1/providers", headers=bob)
        assert limited.json()["code"] == "rate_limited" and 1 <= int(limited.headers["Retry-After"]) <= 60
        assert client.get("/v1/providers", headers={"X-API-Key": "alice-key"}).status_code == 200


def test_api_keys_setting_takes_digests_only():
    digest = hash_key("secret")
    assert Settings(api_keys=f"ops:{digest}").api_keys == {"ops": digest}
    with pytest.raises(ValueError, match="sha256"):
        Settings(api_keys="ops:secret")
