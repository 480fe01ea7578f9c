"""SQLite job store: the embedded default, safe with the API and several workers writing at once.

WAL lets readers and one writer proceed together; a busy timeout makes concurrent writers queue
rather than fail. Each thread gets its own connection (FastAPI runs sync routes in a pool).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, cast

from pydantic_core import to_json

from shared.jobs.base import JSON_FIELDS, PREDECESSORS, DuplicateJob, JobRecord, JobStore, Status, utcnow

COLUMNS = (
    "job_id", "kind", "status", "stage", "progress", "message", "error", "request", "providers", "artifacts",
    "timings", "notes", "attempts", "details", "webhooks", "celery_task_ids", "owner", "idempotency_key",
    "request_hash", "cache_key", "created_at", "updated_at", "started_at", "completed_at",
)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    {", ".join(f"{c} {'INTEGER' if c == 'progress' else 'TEXT'}" for c in COLUMNS[1:])},
    seq INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs(owner, idempotency_key);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS jobs_seq ON jobs(seq);
CREATE INDEX IF NOT EXISTS jobs_owner_created ON jobs(owner, created_at DESC);
CREATE INDEX IF NOT EXISTS jobs_cache ON jobs(owner, cache_key, status);
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, doc_id)
);
"""


class SQLiteJobStore(JobStore):
    def __init__(self, path: Path, busy_timeout_ms: int = 30000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._schema_lock:
                if not self._schema_ready:
                    conn.executescript(SCHEMA)
                    self._schema_ready = True
        return conn

    @staticmethod
    def _encode(field: str, value: Any) -> Any:
        # pydantic-core's encoder: a record has ten JSON fields, and json.dumps sets up a new encoder on
        # every call, a noticeable share of inserting a batch of submissions.
        return to_json(value).decode() if field in JSON_FIELDS else value

    @staticmethod
    def _decode(row: sqlite3.Row | None) -> JobRecord | None:
        return None if row is None else SQLiteJobStore._record(row)

    @staticmethod
    def _record(row: sqlite3.Row) -> JobRecord:
        record = {c: row[c] for c in COLUMNS}
        for field in JSON_FIELDS:
            record[field] = json.loads(record[field]) if record[field] is not None else None
        return cast(JobRecord, record)

    def create(self, record: JobRecord) -> None:
        placeholders = ", ".join("?" for _ in COLUMNS)
        values = [self._encode(c, record.get(c)) for c in COLUMNS]
        try:
            self._conn.execute(
                f"INSERT INTO jobs ({', '.join(COLUMNS)}, seq) VALUES ({placeholders}, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs))",
                values,
            )
        except sqlite3.IntegrityError:
            existing = self.find_by_idempotency_key(record.get("owner") or "", record.get("idempotency_key") or "")
            if existing is None:
                raise
            raise DuplicateJob(existing) from None

    def create_many(self, records: list[JobRecord]) -> int:
        placeholders = ", ".join("?" for _ in COLUMNS)
        rows = [[self._encode(c, record.get(c)) for c in COLUMNS] for record in records]
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            start = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM jobs").fetchone()[0]
            conn.executemany(
                f"INSERT INTO jobs ({', '.join(COLUMNS)}, seq) VALUES ({placeholders}, ?) "
                "ON CONFLICT (job_id) DO NOTHING",
                [(*row, start + i + 1) for i, row in enumerate(rows)],
            )
            created = conn.total_changes - before
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return created

    def update_document(self, collection: str, doc_id: str, fields: dict[str, Any], *, create: bool = False) -> bool:
        if create:
            self._conn.execute(
                "INSERT INTO documents (collection, doc_id, body) VALUES (?, ?, ?) "
                "ON CONFLICT (collection, doc_id) DO UPDATE SET body = json_patch(body, excluded.body)",
                (collection, doc_id, json.dumps(fields)),
            )
            return True
        cursor = self._conn.execute(
            "UPDATE documents SET body = json_patch(body, ?) WHERE collection = ? AND doc_id = ?",
            (json.dumps(fields), collection, doc_id),
        )
        return cursor.rowcount == 1

    def get_document(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT body FROM documents WHERE collection = ? AND doc_id = ?", (collection, doc_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def get(self, job_id: str) -> JobRecord | None:
        return self._decode(self._conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone())

    def find_by_idempotency_key(self, owner: str, key: str) -> JobRecord | None:
        row = self._conn.execute("SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?", (owner, key)).fetchone()
        return self._decode(row)

    def list(self, *, owner=None, kind=None, status=None, limit=20, offset=0) -> list[JobRecord]:
        clauses, params = [], []
        for column, value in (("owner", owner), ("kind", kind), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(
            f"SELECT * FROM jobs {where} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?", (*params, limit, offset)
        ).fetchall()
        return [self._record(row) for row in rows]

    def transition(self, job_id: str, to: Status, **fields: Any) -> bool:
        allowed = PREDECESSORS[to]
        if not allowed:
            return False
        values = self.transition_fields(to, fields)
        assignments = ", ".join(f"{field} = ?" for field in values)
        params = [self._encode(f, v) for f, v in values.items()]
        cursor = self._conn.execute(
            f"UPDATE jobs SET {assignments} WHERE job_id = ? AND status IN ({', '.join('?' for _ in allowed)})",
            (*params, job_id, *(s.value for s in allowed)),
        )
        return cursor.rowcount == 1

    def update_progress(self, job_id: str, *, stage: str, progress: int, message: str) -> bool:
        cursor = self._conn.execute(
            "UPDATE jobs SET stage = ?, progress = MAX(progress, ?), message = ?, updated_at = ? "
            "WHERE job_id = ? AND status = ?",
            (stage, progress, message, utcnow(), job_id, Status.RUNNING.value),
        )
        return cursor.rowcount == 1

    def set_cache_key(self, job_id: str, cache_key: str) -> None:
        self._conn.execute("UPDATE jobs SET cache_key = ? WHERE job_id = ?", (cache_key, job_id))

    def find_completed_by_cache_key(self, owner: str, cache_key: str) -> JobRecord | None:
        row = self._conn.execute(
            "SELECT * FROM jobs WHERE owner = ? AND cache_key = ? AND status = ? ORDER BY completed_at DESC LIMIT 1",
            (owner, cache_key, Status.COMPLETED.value),
        ).fetchone()
        return self._decode(row)

    def touch(self, job_id: str) -> None:
        self._conn.execute("UPDATE jobs SET updated_at = ? WHERE job_id = ? AND status = ?",
                           (utcnow(), job_id, Status.RUNNING.value))

    def _merge_json(self, job_id: str, field: str, patch: dict[str, Any]) -> None:
        self._conn.execute(
            f"UPDATE jobs SET {field} = json_patch(COALESCE({field}, '{{}}'), ?), updated_at = ? WHERE job_id = ?",
            (json.dumps(patch), utcnow(), job_id),
        )

    def add_artifacts(self, job_id: str, artifacts: dict[str, dict[str, Any]]) -> None:
        self._merge_json(job_id, "artifacts", artifacts)

    def add_details(self, job_id: str, details: dict[str, Any]) -> None:
        self._merge_json(job_id, "details", details)

    def add_timing(self, job_id: str, stage: str, seconds: float) -> None:
        self._merge_json(job_id, "timings", {stage: round(seconds, 4)})

    def count_attempt(self, job_id: str, key: str) -> int:
        path = f'$."{key}"'
        row = self._conn.execute(
            "UPDATE jobs SET attempts = json_set(COALESCE(attempts, '{}'), ?, "
            "COALESCE(json_extract(attempts, ?), 0) + 1) WHERE job_id = ? RETURNING json_extract(attempts, ?)",
            (path, path, job_id, path),
        ).fetchone()
        return int(row[0]) if row else 0

    def _append(self, job_id: str, field: str, value: Any) -> None:
        self._conn.execute(
            f"UPDATE jobs SET {field} = json_insert(COALESCE({field}, '[]'), '$[#]', json(?)) WHERE job_id = ?",
            (json.dumps(value), job_id),
        )

    def add_note(self, job_id: str, note: str) -> None:
        self._append(job_id, "notes", note)

    def log_webhook(self, job_id: str, entry: dict[str, Any]) -> None:
        self._append(job_id, "webhooks", entry)

    def ping(self) -> None:
        self._conn.execute("SELECT 1").fetchone()
