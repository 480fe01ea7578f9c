"""The object-store contract and the key rules every backend enforces."""

from __future__ import annotations

import hashlib
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from shared.errors import InvalidKey

MAX_KEY_LENGTH = 1024
CHUNK_BYTES = 1 << 20

_CONTENT_TYPES = {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".obj": "model/obj",
    ".stl": "model/stl",
    ".ply": "application/octet-stream",
    ".splat": "application/octet-stream",
    ".json": "application/json",
}


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative object key, else raise ``InvalidKey``.

    The same key reaches a local folder, so anything that could climb out of it or confuse a
    path join is refused, whatever the backend.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("object key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"object key longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidKey("object key must be relative, without backslashes or NUL")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise InvalidKey("object key contains control characters")
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise InvalidKey("object key has an empty, '.' or '..' segment")
    return key


def guess_content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


@dataclass(frozen=True)
class ObjectInfo:
    """What was stored: recorded on the job and in the manifest."""

    key: str
    bytes: int
    sha256: str
    content_type: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def describe_bytes(key: str, data: bytes, content_type: str | None) -> ObjectInfo:
    return ObjectInfo(key, len(data), hashlib.sha256(data).hexdigest(), content_type or guess_content_type(key))


def describe_file(key: str, path: Path, content_type: str | None, copy_to: BinaryIO | None = None) -> ObjectInfo:
    """Size and digest of a file, read once; ``copy_to`` also receives its bytes (a store's copy of it)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if copy_to is not None:
                copy_to.write(chunk)
    return ObjectInfo(key, size, digest.hexdigest(), content_type or guess_content_type(key))


class ObjectStore(ABC):
    """Put, get, list, delete and sign objects by key; keys are validated by every method."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo: ...

    @abstractmethod
    def put_bytes_once(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Store ``data`` unless ``key`` holds an object already; the info of the object that stays.

        For a write that two overlapping runs of a stage would make with different bytes (a manifest
        carries the time it was made): the first stays, so both runs record that one.
        """

    @abstractmethod
    def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo: ...

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def download(self, key: str, dest: Path) -> None: ...

    @abstractmethod
    def iter_chunks(self, key: str) -> Iterator[bytes]: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def copy(self, source: str, target: str) -> None:
        """Copy within the store (no round trip through this process on S3)."""

    @abstractmethod
    def signed_url(self, key: str, expires_s: int) -> str: ...

    @abstractmethod
    def ping(self) -> None:
        """Raise when the store cannot be reached (used by ``/ready``)."""
