"""What the routes share: the app's settings, per-process clients (one pool each), and the app's
batch writer of new jobs. Dependencies, overridable in tests via FastAPI, except on the submission
route, which reads the settings and the writer from ``app.state`` itself (``routes/generations.py``).

They are ``async def`` although they do no I/O: FastAPI runs a plain ``def`` dependency in the thread
pool, and a hop per dependency per request was most of what a submission cost.
"""

from __future__ import annotations

from celery import Celery
from fastapi import FastAPI, Request

from shared.broker import get_redis
from shared.config import Settings
from shared.jobs import JobStore, get_job_store
from shared.pipeline.submission import JobSender, Submissions
from shared.storage import ObjectStore, get_object_store


async def settings(request: Request) -> Settings:
    """The settings the app was made with (``create_app``)."""
    return request.app.state.settings


async def jobs() -> JobStore:
    return get_job_store()


async def objects() -> ObjectStore:
    return get_object_store()


async def celery() -> Celery:
    from shared.celery_app import app

    return app


async def redis_client():
    return get_redis()


def submissions_of(app: FastAPI) -> Submissions:
    """The app's one batch writer of new jobs, made on first use (``app.state.submissions``, which a
    test may set to one sending through another Celery app)."""
    submissions = getattr(app.state, "submissions", None)
    if submissions is None:
        from shared.celery_app import app as celery_app

        submissions = app.state.submissions = Submissions(get_job_store(), JobSender(celery_app))
    return submissions


async def submissions(request: Request) -> Submissions:
    return submissions_of(request.app)
