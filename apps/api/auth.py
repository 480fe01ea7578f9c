"""API keys: off when none are configured; then every route but ``/health`` (and signed file URLs,
which carry their own signature, and the static viewer, which holds no data) needs ``X-API-Key``.
The OpenAPI document does too unless ``PUBLIC_DOCS`` publishes it (``docs_are_public``). Keys are
stored as SHA-256 digests, matched in constant time, never read from the query string; each key owns
the jobs it creates."""

from __future__ import annotations

import hashlib
import hmac
import sys
import time
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from apps.api import deps
from apps.api.errors import ApiError
from shared.broker import get_redis
from shared.config import Settings

HEADER = "x-api-key"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _owner_of(key: str, settings: Settings) -> str | None:
    digest = hash_key(key)
    owner = None
    for name, stored in settings.api_keys.items():  # compare against every key: no early exit to time
        if hmac.compare_digest(digest, stored):
            owner = name
    return owner


def _check_rate(owner: str, settings: Settings) -> None:
    """A fixed one-minute window per key, counted in Redis so every API process shares it."""
    now = time.time()
    window = int(now // 60)
    key = f"mmf:rate:{owner}:{window}"
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    count = pipe.execute()[0]
    if count > settings.rate_limit_per_minute:
        retry_after = max(1, int(60 * (window + 1) - now))
        raise ApiError(429, "rate_limited", f"more than {settings.rate_limit_per_minute} requests this minute",
                       headers={"Retry-After": str(retry_after)})


async def current_owner(request: Request, settings: Annotated[Settings, Depends(deps.settings)]) -> str:
    """The caller's owner name ("" when the API runs without keys).

    Async so that a keyless API costs no thread hop; the rate check talks to Redis, so it alone runs
    in the thread pool."""
    if not settings.api_keys:
        return ""
    key = request.headers.get(HEADER)
    challenge = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
    if not key:
        raise ApiError(401, "missing_api_key", "send your API key in the X-API-Key header", headers=challenge)
    owner = _owner_of(key, settings)
    if owner is None:
        raise ApiError(401, "invalid_api_key", "the API key is not valid", headers=challenge)
    if settings.rate_limit_per_minute:
        await run_in_threadpool(_check_rate, owner, settings)
    return owner


Owner = Annotated[str, Depends(current_owner)]


def docs_are_public(settings: Settings) -> bool:
    """Whether anyone may read the API's description: always without keys, with keys only by ``PUBLIC_DOCS``."""
    return not settings.api_keys or settings.public_docs


async def document_reader(request: Request, settings: Annotated[Settings, Depends(deps.settings)]) -> None:
    """Guards ``/openapi.json``: a key like every other route, unless the docs are public."""
    if not docs_are_public(settings):
        await current_owner(request, settings)


def main(argv: list[str]) -> int:
    """``python -m apps.api.auth NAME KEY`` prints the API_KEYS entry for that key."""
    if len(argv) != 2:
        print("usage: python -m apps.api.auth NAME KEY", file=sys.stderr)
        return 2
    print(f"{argv[0]}:{hash_key(argv[1])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
