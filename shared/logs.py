"""Structured logs: one JSON object per line, each carrying the job and task it was written for.

A log collector can then answer "everything that happened to job X" with one filter, across the API
and every worker. The job and task ids live in context variables: the worker sets them around each
task (``workers/logging_signals.py``), and anything else may bind them with ``log_context``. Lines
about a task that Celery writes outside the task's own run (received, succeeded) name the task in
their arguments; the ids are taken from there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from shared.config import Settings

job_id_var: ContextVar[str | None] = ContextVar("mmf_job_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("mmf_task_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged as a field
# (but not uvicorn's ``color_message``, the message again with terminal colour codes).
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "ids",
                                                                    "color_message"}
_OWN_HANDLER = "_mmf_handler"


def job_id_from_task_id(task_id: str | None) -> str | None:
    """Our task ids are ``<job_id>:<task name>`` (``shared.pipeline.chains.task_id``); others carry no job."""
    if not task_id or ":" not in task_id:
        return None
    return task_id.split(":", 1)[0] or None


@contextlib.contextmanager
def log_context(job_id: str | None = None, task_id: str | None = None) -> Iterator[None]:
    """Tag every line logged inside the block with the job (and task) it belongs to."""
    job_token = job_id_var.set(job_id)
    task_token = task_id_var.set(task_id)
    try:
        yield
    finally:
        task_id_var.reset(task_token)
        job_id_var.reset(job_token)


class ContextFilter(logging.Filter):
    """Puts ``job_id`` and ``task_id`` on every record, so both formatters (and ``extra``) can use them."""

    def filter(self, record: logging.LogRecord) -> bool:
        task_id = getattr(record, "task_id", None) or task_id_var.get()
        job_id = getattr(record, "job_id", None) or job_id_var.get()
        if task_id is None and isinstance(record.args, Mapping):
            # Celery's "Task name[id] received/succeeded" lines, written before or after the task's own run.
            named = record.args.get("id")
            task_id = named if isinstance(named, str) else None
        record.task_id = task_id
        record.job_id = job_id or job_id_from_task_id(task_id)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, message, job_id, task_id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "job_id": getattr(record, "job_id", None),
            "task_id": getattr(record, "task_id", None),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For people reading a terminal: the classic line, with ``[job=… task=…]`` when there is a job."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        job_id, task_id = getattr(record, "job_id", None), getattr(record, "task_id", None)
        record.ids = f" [job={job_id} task={task_id}]" if job_id or task_id else ""
        return super().format(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time, so a replaced stream (test capture) is followed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def make_handler(settings: Settings) -> logging.Handler:
    handler = _StderrHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    setattr(handler, _OWN_HANDLER, True)
    return handler


def configure_logging(settings: Settings) -> None:
    """Route every logger through one handler on the root logger, in the configured format.

    Idempotent: calling it again replaces the handler it installed and leaves other handlers (a test
    runner's capture) alone. Uvicorn's loggers are made to propagate so its lines are in the same format.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OWN_HANDLER, False)]:
        root.removeHandler(handler)
    root.addHandler(make_handler(settings))
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        # ``--no-access-log`` leaves the access logger without handlers, and uvicorn logs access only when
        # that logger has some: routing it to the root logger would switch access logs back on.
        if name == "uvicorn.access" and not server_logger.hasHandlers():
            continue
        server_logger.handlers.clear()
        server_logger.propagate = True
