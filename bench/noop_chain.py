"""The baseline: a raw Celery chain of no-op tasks with the same configuration and Redis as ours."""

from __future__ import annotations

import time

from celery import Celery
from kombu import Exchange, Queue

from shared.celery_app import celery_config
from shared.config import get_settings

BENCH_QUEUE = "bench_noop"

app = Celery("bench_noop", set_as_current=False)


def _config() -> dict:
    config = celery_config(get_settings())
    config.update(include=[], task_routes={}, task_default_queue=BENCH_QUEUE,
                  task_queues=[Queue(BENCH_QUEUE, Exchange(BENCH_QUEUE), routing_key=BENCH_QUEUE)])
    return config


app.add_defaults(_config)


@app.task(name="bench.noop")
def noop(previous: float | None = None) -> float:
    return time.time()
