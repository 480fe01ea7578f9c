"""What a stage (and the provider it calls) is handed: the job, the stores and a progress hook."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.config import Settings
from shared.errors import JobCanceled
from shared.jobs.base import JobRecord, JobStore
from shared.storage.base import ObjectInfo, ObjectStore

SCRATCH_PREFIX = "mmf-"
_SCRATCH_PID = re.compile(rf"^{SCRATCH_PREFIX}[0-9a-f]{{8}}-[a-z_0-9]+-p(\d+)-")


def remove_orphaned_scratch(root: Path | None = None) -> list[Path]:
    """Remove scratch folders whose process is gone: a stage killed outright (the hard time limit, an
    OOM kill) never reaches its own cleanup. Run as each worker process starts; returns what it removed."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        match = _SCRATCH_PID.match(folder.name)
        if match and folder.is_dir() and not _process_exists(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def job_key(job_id: str, name: str) -> str:
    """Object key of artifact ``name`` of a job: everything a job writes is under ``jobs/<id>/``."""
    return f"jobs/{job_id}/{name}"


class JobArtifacts:
    """Reading a job's request and artifacts: the part every stage context shares, with or without a
    job store (the SageMaker container has none). Needs ``job`` and ``objects`` attributes."""

    job: JobRecord
    objects: ObjectStore

    @property
    def job_id(self) -> str:
        return self.job["job_id"]

    @property
    def request(self) -> dict[str, Any]:
        return self.job["request"]

    def provider_options(self, stage: str) -> dict[str, Any]:
        return (self.request.get("options") or {}).get(stage) or {}

    def read_artifact(self, name: str) -> bytes:
        return self.objects.get_bytes(job_key(self.job_id, name))

    def read_json_artifact(self, name: str) -> Any:
        return json.loads(self.read_artifact(name))


@dataclass
class StageContext(JobArtifacts):
    """One stage of one job. ``report`` is the checkpoint where cancellation is noticed."""

    job: JobRecord
    stage: str
    progress_range: tuple[int, int]
    jobs: JobStore
    objects: ObjectStore
    settings: Settings
    given_workdir: Path | None = None
    """A folder to work in; without one, ``workdir`` makes a scratch folder on first use."""
    retry_number: int = 0
    written: dict[str, ObjectInfo] = field(default_factory=dict)
    scratch: Path | None = field(default=None, init=False)

    @property
    def workdir(self) -> Path:
        """Where the stage keeps its files. Made on first use: most stages write none, and creating and
        removing a folder per stage was a tenth of what a quick stage cost. ``remove_scratch`` ends it."""
        if self.given_workdir is not None:
            return self.given_workdir
        if self.scratch is None:
            prefix = f"{SCRATCH_PREFIX}{self.job_id[:8]}-{self.stage}-p{os.getpid()}-"
            self.scratch = Path(tempfile.mkdtemp(prefix=prefix))
        return self.scratch

    def remove_scratch(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def report(self, fraction: float, message: str) -> None:
        """Record progress within this stage (0..1) and stop if the job is no longer running."""
        low, high = self.progress_range
        progress = int(low + max(0.0, min(1.0, fraction)) * (high - low))
        if not self.jobs.update_progress(self.job_id, stage=self.stage, progress=progress, message=message):
            raise JobCanceled(f"job {self.job_id} is no longer running")

    def add_details(self, details: dict[str, Any]) -> None:
        """Facts about the result (counts, bounds, mesh QA) for the manifest's ``details``."""
        self.jobs.add_details(self.job_id, details)

    def note(self, message: str) -> None:
        """Record a provenance note on the job (e.g. "llm planner failed; used rules")."""
        self.jobs.add_note(self.job_id, message)

    def put_artifact(self, name: str, data: bytes | Path, content_type: str | None = None, *,
                     first_write_wins: bool = False) -> ObjectInfo:
        """Store ``jobs/<id>/<name>`` and record it on the job (same key on a re-run: written once).

        ``first_write_wins`` keeps an object already there and records that one: for bytes that differ
        from run to run, so overlapping runs cannot leave one run's object under the other's record.
        """
        key = job_key(self.job_id, name)
        if isinstance(data, Path):
            info = self.objects.put_file(key, data, content_type)
        elif first_write_wins:
            info = self.objects.put_bytes_once(key, data, content_type)
        else:
            info = self.objects.put_bytes(key, data, content_type)
        self.jobs.add_artifacts(self.job_id, {name: info.as_dict()})
        self.written[name] = info
        return info
