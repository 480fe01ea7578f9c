"""Pick the object store from one setting: ``s3://bucket[/prefix]`` or a folder path.

(``S3_BUCKET=name`` and ``S3_BUCKET_NAME=name`` arrive here as ``s3://name``: see ``shared.config``.)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from shared.config import Settings, get_settings
from shared.storage.base import ObjectStore


def open_object_store(settings: Settings) -> ObjectStore:
    url = settings.resolved_object_store_url
    if url.startswith("s3://"):
        from shared.storage.s3 import S3ObjectStore

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return S3ObjectStore(bucket, prefix, settings.s3_endpoint_url, settings.aws_region,
                             settings.s3_public_endpoint_url, settings.s3_public_read)
    from shared.storage.local import LocalObjectStore

    root = Path(url.removeprefix("file://")).expanduser()
    return LocalObjectStore(root, settings.resolved_public_base_url, settings.signing_secret)


@lru_cache(maxsize=1)
def get_object_store() -> ObjectStore:
    """The process's object store, opened on first use."""
    return open_object_store(get_settings())
