"""Pick the job store from one URL setting: ``sqlite:///path`` or ``mongodb://…``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from shared.config import Settings, get_settings
from shared.jobs.base import JobStore


def open_job_store(settings: Settings) -> JobStore:
    url = settings.resolved_job_store_url
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from shared.jobs.mongo import MongoJobStore

        return MongoJobStore(url, settings.mongo_database)
    if url.startswith("sqlite:///"):
        from shared.jobs.sqlite import SQLiteJobStore

        return SQLiteJobStore(Path(url.removeprefix("sqlite:///")).expanduser())
    raise ValueError(f"JOB_STORE_URL must start with sqlite:/// or mongodb://, got {url!r}")


@lru_cache(maxsize=1)
def get_job_store() -> JobStore:
    """The process's job store, opened on first use."""
    return open_job_store(get_settings())
