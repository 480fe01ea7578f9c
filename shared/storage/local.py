"""The embedded object store: a folder with the same key layout as the S3 bucket."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from shared.errors import ObjectNotFound
from shared.storage.base import CHUNK_BYTES, ObjectInfo, ObjectStore, describe_bytes, describe_file, validate_key
from shared.storage.signing import signed_file_url


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root``; writes are atomic (temp file, then rename)."""

    def __init__(self, root: Path, public_base_url: str, signing_secret: str) -> None:
        self.root = Path(root).resolve()
        self.public_base_url = public_base_url
        self._signing_secret = signing_secret

    def path_for(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ObjectNotFound(key)
        return path

    def _existing(self, key: str) -> Path:
        path = self.path_for(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    def _write_atomically(self, key: str, fill: Callable[[BinaryIO], ObjectInfo],
                          publish: Callable[[str, Path], None] = os.replace) -> ObjectInfo:
        """Fill a temporary file beside the target, then publish it under the key in one step: readers
        see the whole object or none. ``os.link`` as ``publish`` refuses a key that exists."""
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                info = fill(handle)
            publish(tmp_name, target)
        finally:
            Path(tmp_name).unlink(missing_ok=True)  # gone after os.replace; left by os.link or a failure
        return info

    @staticmethod
    def _bytes_filler(key: str, data: bytes, content_type: str | None) -> Callable[[BinaryIO], ObjectInfo]:
        def fill(handle: BinaryIO) -> ObjectInfo:
            handle.write(data)
            return describe_bytes(key, data, content_type)

        return fill

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        return self._write_atomically(key, self._bytes_filler(key, data, content_type))

    def put_bytes_once(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        try:
            return self._write_atomically(key, self._bytes_filler(key, data, content_type), publish=os.link)
        except FileExistsError:
            return describe_bytes(key, self.path_for(key).read_bytes(), content_type)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        # Hashed as it is copied: the source is read once and the copy not read back.
        return self._write_atomically(key, lambda handle: describe_file(key, path, content_type, copy_to=handle))

    def get_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def download(self, key: str, dest: Path) -> None:
        shutil.copyfile(self._existing(key), dest)

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        path = self._existing(key)

        def chunks() -> Iterator[bytes]:
            with open(path, "rb") as handle:
                while chunk := handle.read(CHUNK_BYTES):
                    yield chunk

        return chunks()

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if prefix:
            validate_key(prefix.rstrip("/"))
        start = base if base.is_dir() else base.parent
        if not start.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in start.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not Path(k).name.startswith(".tmp-"))

    def copy(self, source: str, target: str) -> None:
        self.put_file(target, self._existing(source))

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def signed_url(self, key: str, expires_s: int) -> str:
        return signed_file_url(self.public_base_url, self._signing_secret, validate_key(key), expires_s)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise PermissionError(f"object store folder {self.root} is not writable")
