"""The production object store: an S3 bucket (or any S3-protocol server via an endpoint URL)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from shared.errors import ObjectNotFound
from shared.storage.base import CHUNK_BYTES, ObjectInfo, ObjectStore, describe_bytes, describe_file, validate_key


class S3ObjectStore(ObjectStore):
    """Keys live under an optional prefix in ``bucket``; boto3 is built on first use.

    Download URLs name ``public_endpoint_url`` when it is set: the address their callers reach the
    server at, which inside a compose network (``minio:9000``) is not the one we use. A SigV4
    signature covers the host, so the URL is signed for that address, not rewritten afterwards.
    With ``public_read`` (the bucket's policy lets anyone read) they are plain, unsigned URLs.
    """

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str = "us-east-1",
                 public_endpoint_url: str | None = None, public_read: bool = False):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.region = region
        self.public_endpoint_url = public_endpoint_url
        self.public_read = public_read

    def _client(self, endpoint_url: str | None, signature_version: object):
        import boto3
        from botocore.config import Config

        config = Config(retries={"max_attempts": 5, "mode": "standard"}, signature_version=signature_version)
        return boto3.client("s3", endpoint_url=endpoint_url, region_name=self.region, config=config)

    @cached_property
    def client(self):
        return self._client(self.endpoint_url, "s3v4")

    @cached_property
    def url_client(self):
        """The client that writes download URLs (no request is sent with it)."""
        from botocore import UNSIGNED

        if self.public_endpoint_url is None and not self.public_read:
            return self.client
        return self._client(self.public_endpoint_url or self.endpoint_url, UNSIGNED if self.public_read else "s3v4")

    def _full(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _not_found(self, error) -> bool:
        return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        info = describe_bytes(key, data, content_type)
        self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data, ContentType=info.content_type)
        return info

    def put_bytes_once(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        from botocore.exceptions import ClientError

        info = describe_bytes(key, data, content_type)
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data,
                                   ContentType=info.content_type, IfNoneMatch="*")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "NotImplemented":  # an S3 server without conditional writes: the last write wins
                return self.put_bytes(key, data, content_type)
            # 412: the object exists. 409: a conditional write of it is in flight, and what it leaves
            # is what stays; read back either way.
            if code not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            return describe_bytes(key, self.get_bytes(key), content_type)
        return info

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        info = describe_file(key, path, content_type)
        self.client.upload_file(str(path), self.bucket, self._full(key), ExtraArgs={"ContentType": info.content_type})
        return info

    def _get(self, key: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._full(key))
        except ClientError as error:
            if self._not_found(error):
                raise ObjectNotFound(key) from None
            raise

    def get_bytes(self, key: str) -> bytes:
        return self._get(key)["Body"].read()

    def download(self, key: str, dest: Path) -> None:
        body = self._get(key)["Body"]
        with open(dest, "wb") as handle:
            for chunk in body.iter_chunks(CHUNK_BYTES):
                handle.write(chunk)

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        return self._get(key)["Body"].iter_chunks(CHUNK_BYTES)

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        except ClientError as error:
            if self._not_found(error):
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        return int(head["ContentLength"])

    def list(self, prefix: str) -> list[str]:
        full_prefix = self._full(prefix.rstrip("/")) + ("/" if prefix.endswith("/") else "") if prefix else self.prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full_prefix):
            keys.extend(item["Key"][strip:] for item in page.get("Contents", []))
        return sorted(keys)

    def copy(self, source: str, target: str) -> None:
        if self._head(source) is None:
            raise ObjectNotFound(source)
        self.client.copy_object(Bucket=self.bucket, Key=self._full(target),
                                CopySource={"Bucket": self.bucket, "Key": self._full(source)})

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def signed_url(self, key: str, expires_s: int) -> str:
        return self.url_client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._full(key)}, ExpiresIn=expires_s
        )

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)
