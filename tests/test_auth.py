"""API keys: required everywhere but /health when configured, hashed, per-owner jobs, rate limited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apps.api import deps
from apps.api.auth import hash_key
from apps.api.main import create_app
from shared.config import Settings, get_settings


def keyed_client(**overrides) -> TestClient:
    settings = get_settings().model_copy(update={"api_keys": {"alice": hash_key("alice-key"),
                                                              "bob": hash_key("bob-key")}, **overrides})
    app = create_app()
    app.dependency_overrides[deps.settings] = lambda: settings
    return TestClient(app)


@pytest.fixture
def keyed(redis_server):
    with keyed_client() as client:
        yield client


def test_every_route_but_health_needs_a_key(keyed):
    assert keyed.get("/health").status_code == 200
    for method, path in (("GET", "/v1/generations"), ("POST", "/v1/generations"), ("GET", "/ready"),
                         ("GET", "/v1/providers"), ("POST", "/v1/uploads"),
                         ("GET", "/v1/generations/0123456789abcdef0123456789abcdef/events")):
        response = keyed.request(method, path, json={"kind": "env", "prompt": "x"} if method == "POST" else None)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "missing_api_key"
        assert "WWW-Authenticate" in response.headers


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
