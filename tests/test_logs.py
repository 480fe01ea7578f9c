"""Structured logs: the JSON formatter, the job/task context, and a real worker's log file."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

from celery.signals import task_postrun, task_prerun

import workers.logging_signals  # noqa: F401  (connects the signal receivers under test)
from shared.config import Settings
from shared.logs import ContextFilter, JsonFormatter, TextFormatter, configure_logging, log_context, make_handler
from tests.conftest import poll, wait_for_status


def capture(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"mmf.test.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_job_and_task_of_their_context():
    logger, stream = capture(JsonFormatter())
    logger.info("before")
    with log_context(job_id="job-1", task_id="job-1:orchestrator.plan"):
        logger.info("planning %s", "alley", extra={"stage": "planning", "props": 3})
        try:
            raise ValueError("bad plan")
        except ValueError:
            logger.exception("it broke")
    logger.info("after")

    before, inside, broke, after = lines(stream)
    assert before["job_id"] is None and before["task_id"] is None and before["message"] == "before"
    assert inside["job_id"] == "job-1" and inside["task_id"] == "job-1:orchestrator.plan"
    assert inside["message"] == "planning alley" and inside["level"] == "INFO" and inside["logger"] == logger.name
    assert inside["stage"] == "planning" and inside["props"] == 3
    assert datetime.fromisoformat(inside["timestamp"]).utcoffset().total_seconds() == 0
    assert broke["level"] == "ERROR" and "ValueError: bad plan" in broke["exc_info"] and broke["job_id"] == "job-1"
    assert after["job_id"] is None


def test_celery_lines_outside_the_task_run_name_the_task_in_their_arguments():
    """"Task …[id] received" is logged by the worker's main process, before any task context exists."""
    logger, stream = capture(JsonFormatter())
    logger.info("Task %(name)s[%(id)s] received", {"id": "job-2:env_gen.run_env", "name": "env_gen.run_env"})
    logger.info("Task %(name)s[%(id)s] received", {"id": "0b6f-uuid", "name": "celery.ping"})
    ours, foreign = lines(stream)
    assert ours["task_id"] == "job-2:env_gen.run_env" and ours["job_id"] == "job-2"
    assert foreign["task_id"] == "0b6f-uuid" and foreign["job_id"] is None


def test_task_signals_bind_the_first_argument_as_job_id_and_unbind_after():
    logger, stream = capture(JsonFormatter())
    task_prerun.send(sender=None, task_id="job-3:orchestrator.finalize", task=None, args=("job-3",), kwargs={})
    logger.warning("inside")
    task_postrun.send(sender=None, task_id="job-3:orchestrator.finalize", task=None, args=("job-3",), kwargs={},
                      retval=None, state="SUCCESS")
    logger.warning("outside")
    inside, outside = lines(stream)
    assert (inside["job_id"], inside["task_id"]) == ("job-3", "job-3:orchestrator.finalize")
    assert (outside["job_id"], outside["task_id"]) == (None, None)


def test_text_format_for_terminals():
    logger, stream = capture(TextFormatter())
    with log_context(job_id="job-4", task_id="job-4:splat.train"):
        logger.info("training")
    logger.info("idle")
    training, idle = stream.getvalue().splitlines()
    assert training.endswith("[job=job-4 task=job-4:splat.train] training")
    assert "[job=" not in idle and idle.endswith(" idle")
    assert isinstance(make_handler(Settings(log_format="text")).formatter, TextFormatter)


def test_configure_logging_replaces_only_its_own_handler():
    root = logging.getLogger()
    foreign = logging.NullHandler()
    root.addHandler(foreign)
    try:
        configure_logging(Settings(log_level="debug"))
        configure_logging(Settings(log_level="info"))
        ours = [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]
        assert len(ours) == 1 and foreign in root.handlers and root.level == logging.INFO
    finally:
        root.removeHandler(foreign)


def _worker_lines(path, job_id: str, until, timeout_s: float = 10) -> list[dict]:
    """The worker's JSON lines about ``job_id``, once ``until(lines)`` holds (the log trails the job store)."""
    def lines() -> list[dict]:
        entries = (json.loads(raw) for raw in path.read_text().splitlines() if raw.startswith("{"))
        return [entry for entry in entries if entry.get("job_id") == job_id]

    return poll(lines, until, timeout_s, f"the worker's log lines about job {job_id}", interval_s=0.1)


def test_a_real_worker_logs_json_lines_with_the_job_and_task_ids(client, worker, data_dir):
    ok = client.post("/v1/generations", json={"kind": "env", "prompt": "log me", "providers": {"env": "stub"}})
    bad = client.post("/v1/generations", json={"kind": "env", "prompt": "log my failure",
                                               "providers": {"env": "faults"},
                                               "options": {"env": {"fail_message": "boom for the logs"}}})
    ok_job = wait_for_status(client, ok.json()["job_id"])
    bad_id = bad.json()["job_id"]
    assert ok_job["status"] == "completed" and wait_for_status(client, bad_id)["status"] == "failed"
    log_path = data_dir / "logs" / "worker-test.log"

    task_ids = set(ok_job["celery_task_ids"])
    ok_lines = _worker_lines(log_path, ok_job["job_id"], lambda found: {e["task_id"] for e in found} >= task_ids)
    assert {entry["task_id"] for entry in ok_lines} >= task_ids, ok_lines
    assert all(entry["level"] and entry["logger"] and entry["timestamp"] for entry in ok_lines)

    # A line our own code logs while the task runs: its ids come from the task context.
    def runner_warned(found):
        return any(e["logger"] == "shared.pipeline.runner" for e in found)

    failed = [e for e in _worker_lines(log_path, bad_id, runner_warned) if e["logger"] == "shared.pipeline.runner"]
    assert failed and "boom for the logs" in failed[0]["message"]
    assert failed[0]["task_id"] == f"{bad_id}:env_gen.run_env"
