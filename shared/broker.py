"""The process's Redis client for our own use (readiness, rate limits, reconciliation, metrics).

Celery keeps its own connection pool for messages; this one is built on first use, never at import.
"""

from __future__ import annotations

from functools import lru_cache

from shared.config import get_settings


@lru_cache(maxsize=1)
def get_redis():
    import redis

    return redis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=1, socket_timeout=2)
