"""Per-process clients the routes share (one pool each), overridable in tests via FastAPI."""

from __future__ import annotations

from celery import Celery

from shared.broker import get_redis
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


def redis_client():
    return get_redis()
