"""One contract for every object store: the local folder, and S3 through a real moto_server."""

from __future__ import annotations

import hashlib
import time
import uuid
from urllib.parse import parse_qs, quote, urlparse

import pytest

from shared.errors import InvalidKey, ObjectNotFound
from shared.storage import validate_key
from shared.storage.local import LocalObjectStore
from shared.storage.s3 import S3ObjectStore
from shared.storage.signing import signed_file_url, verify


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects", "http://testserver", "secret")
    endpoint = request.getfixturevalue("moto_server")
    request.getfixturevalue("aws_credentials")
    bucket = f"mmf-{uuid.uuid4().hex[:12]}"
    store = S3ObjectStore(bucket, "prefix", endpoint_url=endpoint)
    store.client.create_bucket(Bucket=bucket)
    return store


def test_put_get_roundtrip_with_info(store, tmp_path):
    data = b"glTF" + bytes(range(256)) * 10
    info = store.put_bytes("jobs/abc/scene.glb", data)
    assert info.bytes == len(data) and info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.content_type == "model/gltf-binary"
    assert store.get_bytes("jobs/abc/scene.glb") == data
    assert b"".join(store.iter_chunks("jobs/abc/scene.glb")) == data
    assert store.size("jobs/abc/scene.glb") == len(data)
    source = tmp_path / "plan.json"
    source.write_text('{"a": 1}')
    assert store.put_file("jobs/abc/plan.json", source).content_type == "application/json"
    dest = tmp_path / "copy.json"
    store.download("jobs/abc/plan.json", dest)
    assert dest.read_text() == '{"a": 1}'


def test_put_once_keeps_the_first_object_and_says_which(store):
    first = store.put_bytes_once("jobs/abc/manifest.json", b'{"run": 1}')
    second = store.put_bytes_once("jobs/abc/manifest.json", b'{"run": 2, "later": true}')
    assert store.get_bytes("jobs/abc/manifest.json") == b'{"run": 1}'
    assert second.as_dict() == first.as_dict()  # the second writer records the object that stayed
    assert [key for key in store.list("jobs/abc/") if "tmp" in key] == []


def test_exists_list_delete(store):
    for key in ("jobs/a/x.png", "jobs/a/views/view_0.png", "jobs/b/y.png"):
        store.put_bytes(key, b"1")
    assert store.list("jobs/a/") == ["jobs/a/views/view_0.png", "jobs/a/x.png"]
    assert store.exists("jobs/b/y.png")
    store.delete("jobs/b/y.png")
    assert not store.exists("jobs/b/y.png")
    assert store.list("jobs/b/") == []
    with pytest.raises(ObjectNotFound):
        store.get_bytes("jobs/b/y.png")
    with pytest.raises(ObjectNotFound):
        store.size("jobs/none")


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../x", "jobs/../../x", "jobs//x", "jobs/./x", "a\\b", "a\x00b", "a\nb", "k" * 1025]
)
def test_bad_keys_are_refused(store, key):
    with pytest.raises(InvalidKey):
        store.put_bytes(key, b"x")
    with pytest.raises(InvalidKey):
        store.get_bytes(key)


def test_validate_key_accepts_layout_keys():
    for key in ("jobs/abc/manifest.json", "images/uploaded/red car.jpg", "3d_assets/generated/red_car.glb"):
        assert validate_key(key) == key


def test_s3_presigned_url_carries_the_configured_expiry(moto_server, aws_credentials):
    import httpx

    store = S3ObjectStore(f"mmf-{uuid.uuid4().hex[:12]}", endpoint_url=moto_server)
    store.client.create_bucket(Bucket=store.bucket)
    store.put_bytes("jobs/j/scene.glb", b"bytes")
    url = store.signed_url("jobs/j/scene.glb", 123)
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["123"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query
    assert httpx.get(url).content == b"bytes"


def test_s3_download_urls_name_the_public_endpoint_and_open_there(moto_server, aws_credentials):
    """As in compose: the services reach S3 at one address, browsers on the host at another."""
    import httpx

    port = urlparse(moto_server).port
    inside, public = f"http://localhost:{port}", f"http://127.0.0.1:{port}"
    bucket = f"mmf-{uuid.uuid4().hex[:12]}"
    store = S3ObjectStore(bucket, "p", endpoint_url=inside, public_endpoint_url=public)
    store.client.create_bucket(Bucket=bucket)
    store.put_bytes("jobs/j/scene.glb", b"bytes")
    url = store.signed_url("jobs/j/scene.glb", 60)
    assert url.startswith(f"{public}/{bucket}/p/jobs/j/scene.glb?") and "X-Amz-Signature=" in url
    assert httpx.get(url).content == b"bytes"
    assert S3ObjectStore(bucket, "p", endpoint_url=inside).signed_url("jobs/j/scene.glb", 60).startswith(inside)

    public_read = S3ObjectStore(bucket, "p", endpoint_url=inside, public_endpoint_url=public, public_read=True)
    assert public_read.signed_url("jobs/j/scene.glb", 60) == f"{public}/{bucket}/p/jobs/j/scene.glb"


def test_the_settings_open_s3_for_a_bare_bucket_name_with_its_public_endpoint(tmp_path):
    from shared.config import Settings
    from shared.storage.factory import open_object_store

    settings = Settings(data_dir=tmp_path, s3_bucket="assets", s3_endpoint_url="http://minio:9000",
                        s3_public_endpoint_url="http://localhost:9000", s3_public_read="false")
    store = open_object_store(settings)
    assert isinstance(store, S3ObjectStore)
    assert (store.bucket, store.prefix, store.endpoint_url, store.public_endpoint_url, store.public_read) == (
        "assets", "", "http://minio:9000", "http://localhost:9000", False)


def test_local_signatures_expire_and_resist_tampering():
    now = time.time()
    url = signed_file_url("http://h", "s3cret", "jobs/j/scene.glb", 60, now=now)
    query = parse_qs(urlparse(url).query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    assert verify("s3cret", "jobs/j/scene.glb", expires, signature, now=now)
    assert not verify("s3cret", "jobs/j/scene.glb", expires, signature, now=now + 61)
    assert not verify("s3cret", "jobs/j/other.glb", expires, signature, now=now)
    assert not verify("s3cret", "jobs/j/scene.glb", expires + 1000, signature, now=now)
    assert not verify("other", "jobs/j/scene.glb", expires, signature, now=now)


def test_signed_file_route_refuses_tampered_and_expired(client, data_dir):
    from shared.storage import get_object_store

    store = get_object_store()
    store.put_bytes("jobs/signed/scene.glb", b"payload")
    url = urlparse(store.signed_url("jobs/signed/scene.glb", 60))
    good = client.get(f"{url.path}?{url.query}")
    assert good.status_code == 200 and good.content == b"payload"
    tampered = client.get(f"{url.path.replace('scene', 'other')}?{url.query}")
    assert tampered.status_code == 403 and tampered.json()["code"] == "invalid_signature"
    expired_url = urlparse(signed_file_url("http://testserver", "dev-only-signing-secret-change-me",
                                           "jobs/signed/scene.glb", -5))
    expired = client.get(f"{expired_url.path}?{expired_url.query}")
    assert expired.status_code == 403
    # A correctly signed traversal key, its slashes encoded so that the route (not the client) sees it.
    key = "jobs/../../etc/passwd"
    query = urlparse(signed_file_url("http://testserver", "dev-only-signing-secret-change-me", key, 60)).query
    traversal = client.get(f"/v1/files/{quote(key, safe='')}?{query}")
    assert (traversal.status_code, traversal.json()["code"]) == (403, "invalid_signature")


def test_copy_within_the_store(store):
    store.put_bytes("jobs/a/scene.glb", b"scene-bytes", "model/gltf-binary")
    store.copy("jobs/a/scene.glb", "jobs/b/scene.glb")
    assert store.get_bytes("jobs/b/scene.glb") == b"scene-bytes"
    with pytest.raises(ObjectNotFound):
        store.copy("jobs/none/scene.glb", "jobs/c/scene.glb")
    with pytest.raises(InvalidKey):
        store.copy("jobs/a/scene.glb", "../escape")


def test_a_signature_with_non_ascii_characters_is_refused_not_an_error():
    assert not verify("s3cret", "jobs/j/scene.glb", int(time.time()) + 60, "ünïcode")
