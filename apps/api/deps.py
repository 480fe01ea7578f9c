"""Per-process clients the routes share (one pool each), overridable in tests via FastAPI.

They are ``async def`` although they do no I/O: FastAPI runs a plain ``def`` dependency in the thread
pool, and a hop per dependency per request was most of what a submission cost.
"""

from __future__ import annotations

from celery import Celery

from shared.broker import get_redis
from shared.config import Settings, get_settings
from shared.jobs import JobStore, get_job_store
from shared.storage import ObjectStore, get_object_store


async def settings() -> Settings:
    return get_settings()


async def jobs() -> JobStore:
    return get_job_store()


async def objects() -> ObjectStore:
    return get_object_store()


async def celery() -> Celery:
    from shared.celery_app import app

    return app


async def redis_client():
    return get_redis()
