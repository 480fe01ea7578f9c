"""Worker (and beat) logging: our JSON lines instead of Celery's own format, tagged per task.

Loaded through the Celery setting ``imports``, which workers and beat import before they set up
logging; the API never imports it. Answering ``setup_logging`` tells Celery not to touch logging
at all (no root-logger hijack, no stdout redirect), so ``configure_logging`` alone decides: the same
format and level as the API. Prefork children inherit the handler when they fork.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery.signals import setup_logging, task_postrun, task_prerun

from shared.config import get_settings
from shared.logs import configure_logging, job_id_var, task_id_var

# The tokens to restore when a task ends, by task id; a task run eagerly inside another nests correctly.
_tokens: dict[str, tuple[Token, Token]] = {}


@setup_logging.connect
def _configure(**_: Any) -> None:
    configure_logging(get_settings())


def _job_id(args: Any, kwargs: Any) -> str | None:
    """Our tasks take the job id as their first argument (tasks take ids, not blobs)."""
    if args and isinstance(args[0], str):
        return args[0]
    job_id = (kwargs or {}).get("job_id")
    return job_id if isinstance(job_id, str) else None


@task_prerun.connect
def _bind(task_id: str | None = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    if task_id is None:
        return
    _tokens[task_id] = (job_id_var.set(_job_id(args, kwargs)), task_id_var.set(task_id))


@task_postrun.connect
def _unbind(task_id: str | None = None, **_: Any) -> None:
    tokens = _tokens.pop(task_id, None) if task_id is not None else None
    if tokens is not None:
        job_token, task_token = tokens
        task_id_var.reset(task_token)
        job_id_var.reset(job_token)
