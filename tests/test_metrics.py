"""``/metrics``: observations recorded in the real Redis by any process, scraped and parsed as Prometheus."""

from __future__ import annotations

import logging
import math
import uuid

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from apps.api import deps
from shared import metrics, queues


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_observations_from_the_pipeline_functions_are_scraped(client, redis_server):
    kind = f"kind-{uuid.uuid4().hex[:8]}"  # the session's other jobs may count too: use labels of our own
    for status, times in (("queued", 3), ("running", 2), ("completed", 1), ("failed", 1)):
        for _ in range(times):
            metrics.count_job_outcome(kind, status)
    for seconds in (0.02, 0.3, 7200.0):
        metrics.observe_stage(kind, "planning", "rules", seconds)
    metrics.observe_stage(kind, "finalizing", None, 1.0)
    metrics.count_provider_error("env", f"stub-{kind}", "provider_error")
    metrics.count_provider_error("env", f"stub-{kind}", "provider_error")

    samples = scrape(client)

    assert value(samples, "mmf_jobs_total", kind=kind, status="queued") == 3
    assert value(samples, "mmf_jobs_total", kind=kind, status="running") == 2
    assert value(samples, "mmf_jobs_total", kind=kind, status="completed") == 1
    assert value(samples, "mmf_jobs_in_flight", kind=kind) == 1
    planning = {"kind": kind, "stage": "planning", "provider": "rules"}
    assert value(samples, "mmf_stage_duration_seconds_bucket", **planning, le="0.05") == 1
    assert value(samples, "mmf_stage_duration_seconds_bucket", **planning, le="0.5") == 2
    assert value(samples, "mmf_stage_duration_seconds_bucket", **planning, le="3600.0") == 2
    assert value(samples, "mmf_stage_duration_seconds_bucket", **planning, le="+Inf") == 3
    assert value(samples, "mmf_stage_duration_seconds_count", **planning) == 3
    assert math.isclose(value(samples, "mmf_stage_duration_seconds_sum", **planning), 7200.32)
    assert value(samples, "mmf_stage_duration_seconds_count", kind=kind, stage="finalizing", provider="none") == 1
    assert value(samples, "mmf_provider_errors_total", stage="env", provider=f"stub-{kind}",
                 code="provider_error") == 2
    depth_series = {dict(labels)["queue"] for name, labels in samples if name == "mmf_queue_depth"}
    assert depth_series == set(queues.ALL_QUEUES)  # one depth per queue, and no other


def test_queue_depth_counts_messages_waiting_in_each_queue(client, redis_server):
    """Real Celery messages (kombu's own key layout, priorities included) in a Redis database no worker reads."""
    from celery import Celery
    from kombu import Exchange, Queue

    url = redis_server.rsplit("/", 1)[0] + "/15"
    scratch = redis.Redis.from_url(url)
    scratch.flushdb()
    sender = Celery("depth-test", broker=url, set_as_current=False)
    sender.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name)
                               for name in queues.ALL_QUEUES]
    for priority in (None, None, 9):
        sender.send_task("nothing.runs.this", args=("job",), queue=queues.GPU, priority=priority)
    scratch.lpush(queues.SAGEMAKER, "not even a message")
    assert metrics.queue_depths(scratch) == {queues.CPU: 0, queues.GPU: 3, queues.SAGEMAKER: 1}

    client.app.dependency_overrides[deps.redis_client] = lambda: scratch
    try:
        samples = scrape(client)
    finally:
        client.app.dependency_overrides.pop(deps.redis_client)
        scratch.flushdb()
    assert value(samples, "mmf_queue_depth", queue=queues.GPU) == 3
    assert value(samples, "mmf_queue_depth", queue=queues.SAGEMAKER) == 1
    assert value(samples, "mmf_queue_depth", queue=queues.CPU) == 0


def test_a_metrics_outage_never_reaches_the_pipeline(client, monkeypatch, caplog):
    from infra.local.stack import free_port

    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    monkeypatch.setattr(metrics, "get_redis", lambda: dead)
    with caplog.at_level(logging.WARNING, logger="shared.metrics"):
        metrics.count_job_outcome("env", "completed")
        metrics.observe_stage("env", "planning", "rules", 0.1)
        metrics.count_provider_error("env", "stub", "provider_error")
    assert len([r for r in caplog.records if "could not record" in r.getMessage()]) == 3

    client.app.dependency_overrides[deps.redis_client] = lambda: dead
    try:
        response = client.get("/metrics")
    finally:
        client.app.dependency_overrides.pop(deps.redis_client)
    assert response.status_code == 503
    assert response.json()["code"] == "metrics_unavailable"


@pytest.mark.parametrize("seconds", [float("nan"), -1.0])
def test_impossible_durations_are_dropped(seconds, caplog):
    with caplog.at_level(logging.WARNING, logger="shared.metrics"):
        metrics.observe_stage("env", "planning", "rules", seconds)
    assert "ignoring stage duration" in caplog.text


@pytest.mark.usefixtures("worker")
def test_the_jobs_just_run_are_counted(client):
    from shared.jobs import get_job_store
    from tests.conftest import poll, wait_for_status

    def env_jobs_in_flight() -> list[str]:
        store = get_job_store()
        return [job["job_id"] for status in ("queued", "running") for job in store.list(kind="env", status=status)]

    # The counters are the whole service's: the env jobs earlier tests left running would count too.
    poll(env_jobs_in_flight, lambda ids: not ids, 180, "the env jobs of earlier tests to end")
    before = scrape(client)
    stub = {"plan": "stub", "env": "stub"}
    done = client.post("/v1/generations", json={"kind": "env", "prompt": "counted", "providers": stub,
                                                "use_cache": False}).json()["job_id"]
    failed = client.post("/v1/generations", json={"kind": "env", "prompt": "counted failure",
                                                  "providers": {**stub, "env": "faults"},
                                                  "options": {"env": {"fail_message": "no"}}}).json()["job_id"]
    assert wait_for_status(client, done)["status"] == "completed"
    assert wait_for_status(client, failed)["status"] == "failed"
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after[key] - before.get(key, 0.0)

    assert grew("mmf_jobs_total", kind="env", status="queued") == 2
    assert grew("mmf_jobs_total", kind="env", status="completed") == 1
    assert grew("mmf_jobs_total", kind="env", status="failed") == 1
    assert grew("mmf_stage_duration_seconds_count", kind="env", stage="generating_scene", provider="stub") == 1
    assert grew("mmf_provider_errors_total", stage="generating_scene", provider="faults", code="provider_error") == 1
