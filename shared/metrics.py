"""Service metrics kept in Redis, rendered in the Prometheus text format when ``/metrics`` is scraped.

The API and every worker are separate processes (prefork children, several hosts), so a counter in
one process's memory would show one process's share. Each observation is instead one small Redis
pipeline (HINCRBY / HINCRBYFLOAT on hashes under ``mmf:metrics:``) on the broker's Redis, and the
API renders the totals at scrape time. Counters live as long as that Redis keeps its data.

The recording functions are called from the pipeline and never raise: a metrics outage is logged
and the job goes on. They need only Redis; ``prometheus_client`` is imported by the scrape alone.

What the series mean:

- ``mmf_jobs_total{kind,status}``: jobs that reached each status; a job counts once for each status
  it passes through (``queued``, ``running``, then one of ``completed``/``failed``/``canceled``).
  Callers count a status only when their conditional write actually made that transition.
- ``mmf_jobs_in_flight{kind}``: jobs counted as queued and not yet counted as ended (queued or
  running now), derived from the same counters at scrape time; no job store query is made.
- ``mmf_stage_duration_seconds{kind,stage,provider}``: a histogram of stage run times.
- ``mmf_provider_errors_total{stage,provider,code}``: failures attributed to a provider.
- ``mmf_queue_depth{queue}``: messages waiting in each Celery queue (``LLEN`` at scrape time).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from shared import queues
from shared.broker import get_redis

log = logging.getLogger(__name__)

PREFIX = "mmf:metrics:"
JOBS_KEY = PREFIX + "jobs_total"
STAGE_BUCKETS_KEY = PREFIX + "stage_seconds:buckets"
STAGE_SUM_KEY = PREFIX + "stage_seconds:sum"
PROVIDER_ERRORS_KEY = PREFIX + "provider_errors_total"

# From a stub stage (milliseconds) to GPU splat training (an hour).
STAGE_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
TERMINAL_STATUSES = ("completed", "failed", "canceled")
NO_PROVIDER = "none"

# kombu's Redis transport keeps priorities other than 0 in sibling lists "<queue>\x06\x16<step>"; which steps
# exist depends on its ``priority_steps`` option, so every possible one (1-9) is counted.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = range(1, 10)


def _field(*labels: str) -> str:
    """A hash field holding a label tuple; JSON so no label value can collide with a separator."""
    return json.dumps(labels, separators=(",", ":"))


def _labels(field: bytes | str) -> list[str]:
    return json.loads(field)


def _bucket_index(seconds: float) -> int:
    """Index of the first bucket holding ``seconds``; ``len(STAGE_BUCKETS)`` is +Inf."""
    for index, bound in enumerate(STAGE_BUCKETS):
        if seconds <= bound:
            return index
    return len(STAGE_BUCKETS)


def _record(what: str, commands: Iterable[tuple[str, str, str, float]]) -> None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        for command, key, field, amount in commands:
            getattr(pipe, command)(key, field, amount)
        pipe.execute()
    except Exception as exc:
        log.warning("metrics: could not record %s: %s: %s", what, exc.__class__.__name__, exc)


def observe_stage(kind: str, stage: str, provider: str | None, seconds: float) -> None:
    """One stage run took ``seconds``: two writes (its bucket, the sum); buckets are cumulated at scrape."""
    if not math.isfinite(seconds) or seconds < 0:
        log.warning("metrics: ignoring stage duration %r for %s/%s", seconds, kind, stage)
        return
    labels = (kind, stage, provider or NO_PROVIDER)
    _record("a stage duration", [
        ("hincrby", STAGE_BUCKETS_KEY, _field(*labels, str(_bucket_index(seconds))), 1),
        ("hincrbyfloat", STAGE_SUM_KEY, _field(*labels), seconds),
    ])


def count_job_outcome(kind: str, status: str, jobs: int = 1) -> None:
    """``jobs`` jobs of ``kind`` reached ``status`` (count only the transitions this caller made happen)."""
    _record("a job status", [("hincrby", JOBS_KEY, _field(kind, status), jobs)])


def count_provider_error(stage: str, provider: str | None, code: str) -> None:
    """A provider failed a stage with error ``code`` (``MMFError.code``, or ``internal_error``)."""
    _record("a provider error", [("hincrby", PROVIDER_ERRORS_KEY, _field(stage, provider or NO_PROVIDER, code), 1)])


def queue_keys(queue: str) -> list[str]:
    """Every Redis list that holds waiting messages of ``queue``, one per kombu priority step."""
    return [queue, *(f"{queue}{_PRIORITY_SEPARATOR}{step}" for step in _PRIORITY_STEPS)]


def queue_depths(client: Any, names: Sequence[str] = queues.ALL_QUEUES) -> dict[str, int]:
    """Messages waiting per queue (not those a worker holds unacknowledged)."""
    pipe = client.pipeline(transaction=False)
    for name in names:
        for key in queue_keys(name):
            pipe.llen(key)
    lengths = iter(pipe.execute())
    return {name: sum(next(lengths) for _ in queue_keys(name)) for name in names}


def _read(client: Any) -> dict[str, Any]:
    pipe = client.pipeline(transaction=False)
    for key in (JOBS_KEY, STAGE_BUCKETS_KEY, STAGE_SUM_KEY, PROVIDER_ERRORS_KEY):
        pipe.hgetall(key)
    jobs, buckets, sums, errors = pipe.execute()
    return {"jobs": jobs, "buckets": buckets, "sums": sums, "errors": errors,
            "depths": queue_depths(client)}


class _Snapshot:
    """A prometheus_client collector over one read of the Redis hashes."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        yield from self._jobs()
        yield self._stage_histogram()
        errors = CounterMetricFamily("mmf_provider_errors", "Stage failures attributed to a provider.",
                                     labels=["stage", "provider", "code"])
        for field, value in sorted(self.data["errors"].items()):
            errors.add_metric(_labels(field), float(value))
        yield errors
        depth = GaugeMetricFamily("mmf_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        for name, length in self.data["depths"].items():
            depth.add_metric([name], float(length))
        yield depth

    def _jobs(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        total = CounterMetricFamily("mmf_jobs", "Jobs that reached each status (once per status a job passes).",
                                    labels=["kind", "status"])
        reached: dict[str, dict[str, int]] = {}
        for field, value in sorted(self.data["jobs"].items()):
            kind, status = _labels(field)
            total.add_metric([kind, status], float(value))
            reached.setdefault(kind, {})[status] = int(value)
        yield total
        in_flight = GaugeMetricFamily("mmf_jobs_in_flight", "Jobs queued or running now (queued minus ended).",
                                      labels=["kind"])
        for kind, counts in sorted(reached.items()):
            ended = sum(counts.get(status, 0) for status in TERMINAL_STATUSES)
            # Counts of jobs already running when Redis lost its data can end below zero; show none.
            in_flight.add_metric([kind], float(max(counts.get("queued", 0) - ended, 0)))
        yield in_flight

    def _stage_histogram(self) -> Any:
        from prometheus_client.core import HistogramMetricFamily

        histogram = HistogramMetricFamily("mmf_stage_duration_seconds", "Run time of each stage, by provider.",
                                          labels=["kind", "stage", "provider"])
        per_bucket: dict[tuple[str, ...], list[int]] = {}
        for field, value in self.data["buckets"].items():
            *labels, index = _labels(field)
            counts = per_bucket.setdefault(tuple(labels), [0] * (len(STAGE_BUCKETS) + 1))
            counts[int(index)] += int(value)
        sums = {tuple(_labels(field)): float(value) for field, value in self.data["sums"].items()}
        for labels, counts in sorted(per_bucket.items()):
            cumulative, running = [], 0
            for bound, count in zip((*STAGE_BUCKETS, math.inf), counts, strict=True):
                running += count
                cumulative.append((_bound_text(bound), float(running)))
            histogram.add_metric(list(labels), cumulative, sum_value=sums.get(labels, 0.0))
        return histogram


def _bound_text(bound: float) -> str:
    if math.isinf(bound):
        return "+Inf"
    return str(float(bound))


def render(client: Any | None = None) -> bytes:
    """The metrics in Prometheus text format; raises when Redis cannot be read (the scrape then fails)."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(_read(client or get_redis())))
    return generate_latest(registry)
