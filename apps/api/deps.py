"""Per-process clients the routes share (one pool each), overridable in tests via FastAPI."""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

from shared.config import Settings, get_settings
from shared.jobs import JobStore, get_job_store
from shared.storage import ObjectStore, get_object_store


def settings() -> Settings:
    return get_settings()


def jobs() -> JobStore:
    return get_job_store()


def objects() -> ObjectStore:
    return get_object_store()


def celery() -> Celery:
    from shared.celery_app import app

    return app


@lru_cache(maxsize=1)
def redis_client():
    """A small client for the readiness probe; Celery keeps its own producer pool for sending."""
    import redis

    return redis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=1, socket_timeout=1)
