"""The API as the CLI sees it: JSON in and out, errors as ``{code, message, detail}``, SSE status streams."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from shared.version import CODE_VERSION

TERMINAL = frozenset({"completed", "failed", "canceled"})
# Long enough to outlast the API's idle heartbeat on an event stream (15 s by default).
STREAM_READ_TIMEOUT_S = 60.0


class ApiError(Exception):
    """The API answered with an error; ``code`` is its stable error code."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message, "detail": self.detail}


class Unreachable(Exception):
    """No answer from the API (refused, timed out, dropped)."""


@dataclass
class Downloaded:
    path: Path
    bytes: int
    sha256: str


def _error_from(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        return ApiError(response.status_code, body["code"], body.get("message") or body["code"], body.get("detail"))
    return ApiError(response.status_code, "http_error", f"HTTP {response.status_code}: {response.text[:300]}")


def _filename(response: httpx.Response, fallback: str) -> str:
    """The name the API gives the file, reduced to a bare name so it cannot point outside the folder."""
    match = re.search(r'filename="?([^";]+)"?', response.headers.get("content-disposition", ""))
    name = PurePosixPath(match.group(1) if match else fallback).name
    return name if name not in ("", ".", "..") else "download"


class Api:
    """One connection pool to the API, shared by the threads that watch jobs."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        headers = {"User-Agent": f"mmf-cli/{CODE_VERSION}"}
        if api_key:
            headers["X-API-Key"] = api_key
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, headers=headers,
                                 timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)))

    def close(self) -> None:
        self.http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach the API at {self.base_url}: {exc.__class__.__name__}: {exc}") from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", "/v1/generations", json=body).json()

    def upload(self, path: Path) -> dict[str, Any]:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        with path.open("rb") as handle:
            return self._send("POST", "/v1/uploads", files={"file": (path.name, handle, content_type)}).json()

    def status(self, job_id: str) -> dict[str, Any]:
        return self._send("GET", f"/v1/generations/{job_id}/status").json()

    def list(self, limit: int, offset: int = 0, kind: str | None = None, status: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        params.update({name: value for name, value in (("kind", kind), ("status", status)) if value})
        return self._send("GET", "/v1/generations", params=params).json()

    def reconcile(self) -> dict[str, Any]:
        return self._send("POST", "/v1/reconcile").json()

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._send("POST", f"/v1/generations/{job_id}/cancel").json()

    def download(self, job_id: str, artifact: str | None, folder: Path) -> Downloaded:
        """Stream to a temporary file beside the target and rename it once the sha256 matches the ETag."""
        path = f"/v1/generations/{job_id}/download" + (f"/{artifact}" if artifact else "")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with self.http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from(response)
                target = folder / _filename(response, artifact or "download")
                digest, size = hashlib.sha256(), 0
                with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.", delete=False) as partial:
                    try:
                        for chunk in response.iter_bytes(1 << 20):
                            partial.write(chunk)
                            digest.update(chunk)
                            size += len(chunk)
                    except BaseException:
                        os.unlink(partial.name)
                        raise
                expected = response.headers.get("etag", "").strip('"')
        except httpx.TransportError as exc:
            raise Unreachable(f"download from {self.base_url} failed: {exc.__class__.__name__}: {exc}") from None
        if expected and expected != digest.hexdigest():
            os.unlink(partial.name)
            raise ApiError(502, "checksum_mismatch", f"{target.name}: sha256 {digest.hexdigest()} != ETag {expected}")
        os.replace(partial.name, target)
        return Downloaded(target, size, digest.hexdigest())

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """Status objects from the job's event stream until it ends (terminal status, or the server's time limit)."""
        timeout = httpx.Timeout(self.http.timeout.connect, read=STREAM_READ_TIMEOUT_S)
        try:
            with self.http.stream("GET", f"/v1/generations/{job_id}/events", timeout=timeout,
                                  headers={"Accept": "text/event-stream"}) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from(response)
                event, data = "message", []
                for line in response.iter_lines():
                    if line == "":
                        if event == "status" and data:
                            yield json.loads("\n".join(data))
                        event, data = "message", []
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip())
        except httpx.TransportError as exc:
            raise Unreachable(f"event stream of job {job_id} broke: {exc.__class__.__name__}: {exc}") from None
