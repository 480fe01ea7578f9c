"""Status updates/s on the SQLite job store with 4 writer processes, against raw sqlite3 UPDATEs of the same shape.

Every writer walks its own jobs through a job's life: ``queued -> running``, ``progress_steps`` progress
updates, ``running -> completed``. Ours goes through ``SQLiteJobStore`` (conditional transitions,
``MAX`` progress, timestamps); the baseline sends the same statements with plain ``sqlite3`` on a copy
of the same table (same PRAGMAs). Ours and raw alternate, ``rounds`` times; the best of each counts.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

WRITERS = 4


def _seed(path: Path, writers: int, jobs_per_writer: int) -> None:
    from shared.jobs.base import new_job_record
    from shared.jobs.sqlite import SQLiteJobStore

    store = SQLiteJobStore(path)
    store.create_many([new_job_record("env", {"kind": "env"}, {"plan": "stub"}, job_id=f"w{w}-{n}")
                       for w in range(writers) for n in range(jobs_per_writer)])


def _ours(path: str, writer: int, jobs: int, steps: int, start, done) -> None:
    from shared.jobs.base import Status
    from shared.jobs.sqlite import SQLiteJobStore

    store = SQLiteJobStore(Path(path))
    store.ping()
    start.wait()
    began = time.perf_counter()
    for n in range(jobs):
        job_id = f"w{writer}-{n}"
        store.transition(job_id, Status.RUNNING, stage="plan")
        for step in range(steps):
            store.update_progress(job_id, stage="plan", progress=step * 10, message="working")
        store.transition(job_id, Status.COMPLETED, progress=100, message="done")
    done.put(time.perf_counter() - began)


def _raw(path: str, writer: int, jobs: int, steps: int, start, done) -> None:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    now = "2026-01-01T00:00:00.000000+00:00"
    start.wait()
    began = time.perf_counter()
    for n in range(jobs):
        job_id = f"w{writer}-{n}"
        conn.execute("UPDATE jobs SET stage = ?, status = ?, updated_at = ?, started_at = ? "
                     "WHERE job_id = ? AND status IN (?)", ("plan", "running", now, now, job_id, "queued"))
        for step in range(steps):
            conn.execute("UPDATE jobs SET stage = ?, progress = MAX(progress, ?), message = ?, updated_at = ? "
                         "WHERE job_id = ? AND status = ?", ("plan", step * 10, "working", now, job_id, "running"))
        conn.execute("UPDATE jobs SET progress = ?, message = ?, status = ?, updated_at = ?, completed_at = ? "
                     "WHERE job_id = ? AND status IN (?)", (100, "done", "completed", now, now, job_id, "running"))
    done.put(time.perf_counter() - began)


def _run(target, path: Path, writers: int, jobs: int, steps: int) -> float:
    """Updates per second over the slowest writer's wall time."""
    ctx = multiprocessing.get_context("fork")
    start, done = ctx.Barrier(writers + 1), ctx.Queue()
    processes = [ctx.Process(target=target, args=(str(path), w, jobs, steps, start, done)) for w in range(writers)]
    for process in processes:
        process.start()
    start.wait()
    elapsed = max(done.get(timeout=300) for _ in processes)
    for process in processes:
        process.join()
    return writers * jobs * (steps + 2) / elapsed


def main(writers: int = WRITERS, jobs_per_writer: int = 150, progress_steps: int = 8, rounds: int = 2) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="mmf-bench-store-"))
    ours: list[float] = []
    raw: list[float] = []
    try:
        for number in range(rounds):
            for name, target, into in (("ours", _ours, ours), ("raw", _raw, raw)):
                path = folder / f"{name}-{number}.sqlite3"
                _seed(path, writers, jobs_per_writer)
                into.append(_run(target, path, writers, jobs_per_writer, progress_steps))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"writers": writers, "updates": writers * jobs_per_writer * (progress_steps + 2), "ours": max(ours),
            "raw": max(raw)}


def table(results: dict[str, Any]) -> str:
    return "\n".join([
        "| figure | ours (SQLiteJobStore) | baseline (raw sqlite3) | ratio |", "|---|---|---|---|",
        f"| status updates/s, {results['writers']} writer processes ({results['updates']:,} updates) | "
        f"{results['ours']:,.0f} | {results['raw']:,.0f} | {results['ours'] / results['raw']:.2f} |",
    ])


if __name__ == "__main__":
    print(table(main()))
