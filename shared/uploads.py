"""What an upload is, decided from its bytes (never from its name or declared type), and where it goes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import InvalidRequest

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class MediaType:
    family: str  # "image" or "video"
    extension: str
    content_type: str


def sniff(head: bytes) -> MediaType | None:
    """The media type of a file from its first bytes (16 are enough), or None when we do not take it."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "png", "image/png")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "jpg", "image/jpeg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType("image", "webp", "image/webp")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return MediaType("video", "mov", "video/quicktime")
        return MediaType("video", "mp4", "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaType("video", "webm", "video/webm")
    return None


def upload_prefix(family: str) -> str:
    return "images/uploaded" if family == "image" else "videos/uploaded"


def upload_key(upload_id: str, media: MediaType) -> str:
    return f"{upload_prefix(media.family)}/{upload_id}.{media.extension}"


def s3_uri_key(uri: str, objects) -> str:
    """The object key ``s3://bucket/key`` names in ``objects``: on an S3 store the bucket must be ours and
    the key under our prefix; a store without a bucket (the local folder) takes the key part as it is."""
    from shared.storage import validate_key

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    our_bucket = getattr(objects, "bucket", None)
    if our_bucket is not None:
        if bucket != our_bucket:
            raise InvalidRequest(f"s3://{bucket}/… is not this service's bucket")
        prefix = getattr(objects, "prefix", "")
        if prefix:
            if not key.startswith(prefix + "/"):
                raise InvalidRequest(f"s3 key outside this service's prefix {prefix!r}")
            key = key.removeprefix(prefix + "/")
    return validate_key(key)


def resolve_reference(reference: str, family: str, objects) -> str:
    """The object key a request's media reference names: an upload id, or a key of ours that exists."""
    from shared.storage import validate_key

    if UPLOAD_ID.match(reference):
        prefix = f"{upload_prefix(family)}/{reference}."
        keys = objects.list(prefix)
        if not keys:
            raise InvalidRequest(f"no uploaded {family} with id {reference!r}")
        return keys[0]
    if reference.startswith("s3://"):
        if getattr(objects, "bucket", None) is None:
            bucket = reference.removeprefix("s3://").partition("/")[0]
            raise InvalidRequest(f"s3://{bucket}/… is not this service's bucket; upload the file or name an object key")
        key = s3_uri_key(reference, objects)
    else:
        key = validate_key(reference)
    if not objects.exists(key):
        raise InvalidRequest(f"no object {key!r}")
    return key
