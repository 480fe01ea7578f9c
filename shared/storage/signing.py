"""Expiring HMAC signatures for the local store's download URLs, served by the API."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote, urlencode


def signature(secret: str, key: str, expires_at: int) -> str:
    message = f"{key}\n{expires_at}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_file_url(base_url: str, secret: str, key: str, expires_s: int, now: float | None = None) -> str:
    expires_at = int((time.time() if now is None else now) + expires_s)
    query = urlencode({"expires": expires_at, "signature": signature(secret, key, expires_at)})
    return f"{base_url}/v1/files/{quote(key)}?{query}"


def verify(secret: str, key: str, expires_at: int, given: str, now: float | None = None) -> bool:
    """True when ``given`` signs ``key`` until ``expires_at`` and that moment has not passed."""
    if expires_at < (time.time() if now is None else now):
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, and a URL can carry any.
    return hmac.compare_digest(signature(secret, key, expires_at).encode(), given.encode())
