"""Fixtures with real servers: a redis-server, Celery workers on the real queues, moto_server.

The process environment is set here, before any settings are built, so every cached client in
this process and every worker subprocess agree on one Redis and one data folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from infra.local import stack
from shared.config import ALIAS_NAMES
from tests.faults import EXTRA_PROVIDERS

T = TypeVar("T")

REAL_MONGO_URI = os.environ.pop("MONGO_URI", None)
_DATA_DIR = Path(tempfile.mkdtemp(prefix="mmf-tests-"))
_REDIS_PORT = stack.free_port()
os.environ.update({
    "DATA_DIR": str(_DATA_DIR),
    "REDIS_URL": f"redis://127.0.0.1:{_REDIS_PORT}/0",
    "JOB_STORE_URL": f"sqlite:///{_DATA_DIR / 'jobs.sqlite3'}",
    "OBJECT_STORE_URL": str(_DATA_DIR / "objects"),
    "PUBLIC_BASE_URL": "http://testserver",
    "OMP_NUM_THREADS": "1",
    "ENVIRONMENT": "development",
    "TRANSIENT_BACKOFF_S": "0.05",
    "WEBHOOK_BACKOFF_S": "0.05",
    # Names (not addresses) exempt from the SSRF guard: the tests' own receivers listen on loopback.
    "FETCH_ALLOW_HOSTS": "localhost",
    # The fault-injection providers (tests/faults.py), for this process, the workers and the APIs it starts.
    "EXTRA_PROVIDERS": EXTRA_PROVIDERS,
})
# A developer's own object store, endpoints and the other names of our settings stay out of the tests.
for _name in ("S3_ENDPOINT_URL", "S3_PUBLIC_ENDPOINT_URL", "USE_S3_STORAGE", *ALIAS_NAMES):
    os.environ.pop(_name, None)

TERMINAL = {"completed", "failed", "canceled"}
# Modules whose tests start stacks of their own rather than through the fixtures below.
STACK_MODULES = {"tests.test_reliability"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs real workers, so ``make test-fast`` can leave them out (``-m "not workers"``)."""
    for item in items:
        if {"worker", "live_api"} & set(getattr(item, "fixturenames", ())) or item.module.__name__ in STACK_MODULES:
            item.add_marker(pytest.mark.workers)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return _DATA_DIR


@pytest.fixture(scope="session")
def redis_server():
    service = stack.start_redis(_REDIS_PORT, _DATA_DIR / "redis", dict(os.environ))
    yield os.environ["REDIS_URL"]
    service.stop()


@pytest.fixture(scope="session")
def moto_server():
    """A real S3-protocol (and SageMaker API) server on loopback; yields its endpoint URL."""
    import shutil
    import sys

    import httpx

    port = stack.free_port()
    # The moto installed with this interpreter (the one requirements-dev.txt pins), before any on PATH.
    own = Path(sys.executable).with_name("moto_server")
    binary = str(own) if own.exists() else shutil.which("moto_server") or str(own)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    service = stack.spawn("moto", [binary, "-H", "127.0.0.1", "-p", str(port)], env, _DATA_DIR / "logs")
    endpoint = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{endpoint}/moto-api/", timeout=0.5).status_code < 500
        except httpx.HTTPError:
            return False

    stack.wait_until(answers, 30, "moto_server")
    yield endpoint
    service.stop()


@pytest.fixture
def aws_credentials(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def worker(redis_server):
    """One real Celery worker (prefork, 2 processes) consuming all three queues."""
    from shared import queues

    service = stack.start_worker(list(queues.ALL_QUEUES), dict(os.environ), _DATA_DIR / "logs", "test", 2)
    try:
        stack.wait_for_workers(["test"])
    except TimeoutError:
        service.stop()
        raise AssertionError(f"worker did not start:\n{service.log_path.read_text()[-4000:]}") from None
    yield service
    service.stop()


@pytest.fixture(scope="session")
def live_api(worker, data_dir):
    """A real uvicorn API on a free port (the start-up path of ``make up``); yields its base URL."""
    port = stack.free_port()
    service = stack.start_api("127.0.0.1", port, dict(os.environ), data_dir / "logs" / "live-api")
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            stack.wait_for_api(base_url)
        except TimeoutError:
            pytest.fail(f"the API did not become ready:\n{service.log_path.read_text()[-4000:]}")
        yield base_url
    finally:
        service.stop()


@pytest.fixture(scope="session")
def client(redis_server):
    from fastapi.testclient import TestClient

    from apps.api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def poll(fetch: Callable[[], T], done: Callable[[T], bool], timeout_s: float, what: str,
         interval_s: float = 0.05) -> T:
    """``fetch()`` until ``done`` holds for what it returned; that value. A timeout names ``what``, last value too."""
    last: list[T] = []

    def holds() -> bool:
        last[:] = [fetch()]
        return done(last[0])

    try:
        stack.wait_until(holds, timeout_s, what, interval_s)
    except TimeoutError as timeout:
        raise AssertionError(f"{timeout}; last seen: {last[0] if last else None}") from None
    return last[0]


def wait_for_status(client, job_id: str, statuses: set[str] = TERMINAL, timeout_s: float = 60) -> dict:
    """Poll the status route until the job reaches one of ``statuses``; return the job."""
    return poll(lambda: client.get(f"/v1/generations/{job_id}").json(), lambda body: body["status"] in statuses,
                timeout_s, f"job {job_id} to reach {sorted(statuses)}")
