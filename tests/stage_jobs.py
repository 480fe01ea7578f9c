"""A job of any kind in real stores (SQLite job store, local object store) under a test's folder.

Stage functions run through real ``StageContext``s, one per stage run, as a worker would run
them; no broker is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.config import Settings
from shared.jobs import Status
from shared.jobs.base import new_job_record
from shared.jobs.sqlite import SQLiteJobStore
from shared.pipeline.context import StageContext
from shared.storage.base import ObjectStore
from shared.storage.local import LocalObjectStore


class StageJob:
    """One running job and a fresh StageContext (own scratch folder) for every stage run."""

    def __init__(self, root: Path, kind: str, request: dict[str, Any], settings: Settings,
                 providers: dict[str, str], objects: ObjectStore | None = None) -> None:
        self.root, self.settings = root, settings
        self.jobs = SQLiteJobStore(root / "jobs.sqlite3")
        self.objects = objects or LocalObjectStore(root / "objects", "http://testserver", "test-secret")
        record = new_job_record(kind, {"kind": kind, **request}, providers)
        self.jobs.create(record)
        self.jobs.transition(record["job_id"], Status.RUNNING)
        self.job_id = record["job_id"]
        self._runs = 0

    def context(self, stage: str, progress: tuple[int, int]) -> StageContext:
        self._runs += 1
        workdir = self.root / f"work-{self._runs}-{stage}"
        workdir.mkdir()
        return StageContext(self.jobs.get(self.job_id), stage, progress, self.jobs, self.objects, self.settings,
                            workdir)

    def run(self, stage: str, progress: tuple[int, int], work: Callable[[StageContext], Any]) -> StageContext:
        ctx = self.context(stage, progress)
        work(ctx)
        return ctx

    def key(self, name: str) -> str:
        return f"jobs/{self.job_id}/{name}"

    def artifact(self, name: str) -> bytes:
        return self.objects.get_bytes(self.key(name))

    @property
    def record(self) -> dict[str, Any]:
        return self.jobs.get(self.job_id)
