"""Job stores: SQLite (the embedded default) and MongoDB, behind one interface."""

from __future__ import annotations

from shared.jobs.base import TERMINAL, DuplicateJob, JobRecord, JobStore, Status, new_job_id
from shared.jobs.factory import get_job_store, open_job_store

__all__ = [
    "TERMINAL", "DuplicateJob", "JobRecord", "JobStore", "Status", "get_job_store", "new_job_id", "open_job_store",
]
