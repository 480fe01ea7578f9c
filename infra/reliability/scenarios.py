"""Fault scenarios, each against its own fresh local stack: real redis-server, celery workers and API.

Every scenario starts redis on a free port, one worker on all queues (prefork, 2 processes) and the
API under uvicorn, all with their own ``DATA_DIR``; submits ``n`` env jobs with the stub providers, or
the fault-injection ones of ``tests/faults.py`` (added through ``EXTRA_PROVIDERS``, which only these
stacks set) where a job must be slow or hang (unique prompts, no result cache) over HTTP; injects one
fault; waits until every job has settled; and returns the figures::

    {scenario, submitted, completed, failed, lost, duplicates, reruns, recovery_s, ...}

- ``lost``: jobs not terminal when the scenario gave up waiting (must be 0);
- ``duplicates``: anomalies that can be seen from outside: a status seen going backwards while polling,
  a completed job whose stored objects differ from its record (missing, other bytes, stray files), and
  stage re-runs the fault does not explain (a stage delivered twice when no process died under it);
- ``reruns``: stage deliveries beyond the first (``attempts`` on the job record);
- ``recovery_s``: seconds from the fault until every job had settled.

Settings reach the subprocesses through their environment only, so nothing here touches the cached
settings of the calling process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from infra.local import stack
from shared import queues
from shared.config import ALIAS_NAMES
from tests import faults

TERMINAL = {"completed", "failed", "canceled"}
ORDER = {"queued": 0, "running": 1, "completed": 2, "failed": 2, "canceled": 2}
SETTLE_TIMEOUT_S = 180.0
# Settings of the caller (the test session, a developer's shell) that must not leak into a scenario's stack.
SCRUBBED = ("JOB_STORE_URL", "OBJECT_STORE_URL", "S3_ENDPOINT_URL", "S3_PUBLIC_ENDPOINT_URL", "USE_S3_STORAGE",
            "API_KEYS", "RATE_LIMIT_PER_MINUTE", "PUBLIC_BASE_URL", *ALIAS_NAMES)


@dataclass
class LocalStack:
    """One scenario's processes and the HTTP client that drives them."""

    data_dir: Path
    redis_port: int
    api_port: int
    env: dict[str, str]
    redis: stack.Service | None = None
    api: stack.Service | None = None
    workers: list[stack.Service] = field(default_factory=list)
    http: httpx.Client = field(init=False)
    seen: dict[str, list[str]] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)
    keep: bool = False  # set when something went wrong: the data folder (logs, job store) is left for a look

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.api_port}", timeout=10)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "run" / "logs"

    # processes -------------------------------------------------------------------------------------
    def start_redis(self) -> None:
        self.redis = stack.start_redis(self.redis_port, self.data_dir / "redis", self.env)

    def start_worker(self, name: str, concurrency: int = 2) -> stack.Service:
        service = stack.start_worker(list(queues.ALL_QUEUES), self.env, self.log_dir, name, concurrency)
        self.workers.append(service)
        marker = f"{name}@"

        def ready() -> bool:
            if service.process.poll() is not None:
                raise RuntimeError(f"worker {name} exited:\n{service.log_path.read_text()[-3000:]}")
            text = service.log_path.read_text(errors="replace") if service.log_path.exists() else ""
            return any(marker in line and "ready." in line for line in text.splitlines())

        stack.wait_until(ready, 60, f"worker {name} ready")
        return service

    def start_api(self) -> None:
        self.api = stack.start_api("127.0.0.1", self.api_port, self.env, self.log_dir)
        stack.wait_until(self.ready, 60, "API /ready")

    def ready(self) -> bool:
        try:
            return self.http.get("/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.http.close()
        for service in [self.api, *self.workers, self.redis]:
            if service is not None:
                service.stop(timeout_s=15)

    # jobs ------------------------------------------------------------------------------------------
    def submit(self, count: int, label: str, env_options: dict[str, Any] | None = None) -> list[str]:
        ids = []
        for index in range(count):
            body = {"kind": "env", "prompt": f"{label} {index} {uuid.uuid4().hex[:8]}", "use_cache": False,
                    "providers": {"plan": "stub", "env": "stub"}}
            if env_options:
                body["providers"]["env"] = faults.NAME
                body["options"] = {"env": env_options}
            response = self.http.post("/v1/generations", json=body)
            if response.status_code != 202:
                raise RuntimeError(f"submit answered {response.status_code}: {response.text[:500]}")
            ids.append(response.json()["job_id"])
        return ids

    def jobs(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Every job's record, and a note of any status seen going backwards since the last look."""
        found: dict[str, dict[str, Any]] = {}
        offset: int | None = 0
        while offset is not None:
            page = self.http.get("/v1/generations", params={"limit": 100, "offset": offset}).json()
            found.update({job["job_id"]: job for job in page["items"]})
            offset = page["next_offset"]
        wanted = {job_id: found[job_id] for job_id in ids if job_id in found}
        for job_id, job in wanted.items():
            history = self.seen.setdefault(job_id, [])
            backwards = bool(history) and ORDER[job["status"]] < ORDER[history[-1]]
            left_terminal = bool(history) and history[-1] in TERMINAL and job["status"] != history[-1]
            if backwards or left_terminal:
                self.anomalies.append(f"{job_id}: {history[-1]} -> {job['status']}")
            if not history or history[-1] != job["status"]:
                history.append(job["status"])
        return wanted

    def settle(self, ids: list[str], timeout_s: float = SETTLE_TIMEOUT_S,
               nudge: Callable[[], None] | None = None) -> dict[str, dict[str, Any]]:
        """Poll until every job is terminal (or the timeout passes); return the last records seen."""
        last: dict[str, dict[str, Any]] = {}

        def done() -> bool:
            nonlocal last
            try:
                last = self.jobs(ids)
            except (httpx.HTTPError, ValueError):
                return False
            settled = len(last) == len(ids) and all(job["status"] in TERMINAL for job in last.values())
            if not settled and nudge is not None:
                nudge()
            return settled

        with contextlib.suppress(TimeoutError):
            stack.wait_until(done, timeout_s, "jobs to settle", interval_s=0.25)
        return last

    def wait_running(self, ids: list[str], at_least: int = 1, timeout_s: float = 60) -> None:
        stack.wait_until(lambda: sum(job["status"] == "running" for job in self.jobs(ids).values()) >= at_least,
                         timeout_s, f"{at_least} job(s) running", interval_s=0.05)

    def object_anomalies(self, job: dict[str, Any]) -> list[str]:
        """A completed job's folder holds exactly its recorded artifacts, with the recorded bytes."""
        if job["status"] != "completed":
            return []
        folder = self.data_dir / "objects" / "jobs" / job["job_id"]
        problems = []
        files = folder.rglob("*") if folder.exists() else []
        on_disk = {path.relative_to(folder).as_posix() for path in files if path.is_file()}
        for name in sorted(on_disk - set(job["artifacts"])):
            problems.append(f"{job['job_id']}: stray object {name}")
        for name, info in job["artifacts"].items():
            path = folder / name
            if not path.is_file():
                problems.append(f"{job['job_id']}: {name} missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != info["sha256"]:
                problems.append(f"{job['job_id']}: {name} differs from its record")
        for name in ("manifest.json", "scene.glb", "plan.json"):
            if name not in job["artifacts"]:
                problems.append(f"{job['job_id']}: completed without {name}")
        return problems


def _env(data_dir: Path, redis_port: int, api_port: int, extra: dict[str, str] | None) -> dict[str, str]:
    env = stack.stack_env(data_dir, redis_port, api_port)
    for name in SCRUBBED:
        env.pop(name, None)
    tmp = data_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update({
        "JOB_STORE_URL": f"sqlite:///{data_dir / 'jobs.sqlite3'}",
        "OBJECT_STORE_URL": str(data_dir / "objects"),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        "TMPDIR": str(tmp),  # the stages' scratch folders land here, so a scenario can check they are gone
        "ENVIRONMENT": "development",
        "LOG_FORMAT": "text",
        "HEARTBEAT_INTERVAL_S": "1",
        "RECONCILE_INTERVAL_S": "3600",  # no beat runs here: a scenario reconciles explicitly
        "TRANSIENT_BACKOFF_S": "0.05",
        "EXTRA_PROVIDERS": faults.EXTRA_PROVIDERS,
    })
    env.update(extra or {})
    return env


@contextlib.contextmanager
def local_stack(name: str, extra_env: dict[str, str] | None = None, keep: bool = False):
    data_dir = Path(tempfile.mkdtemp(prefix=f"mmf-rel-{name}-"))
    redis_port, api_port = stack.free_port(), stack.free_port()
    st = LocalStack(data_dir, redis_port, api_port, _env(data_dir, redis_port, api_port, extra_env))
    try:
        st.start_redis()
        st.start_worker(f"rel-{name}-1")
        st.start_api()
        yield st
    finally:
        st.stop()
        if not (keep or st.keep or os.environ.get("MMF_RELIABILITY_KEEP")):
            shutil.rmtree(data_dir, ignore_errors=True)


def pool_children(pid: int) -> list[int]:
    """The worker's pool processes: the children of its main process (from /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in children.read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def busy_pool_child(st: LocalStack, worker_pid: int, timeout_s: float = 10) -> int | None:
    """A pool process that is running a task now (asked over the broker), so a kill hits a stage mid-run."""
    from celery import Celery

    control = Celery(broker=st.redis_url).control
    found: list[int] = []

    def busy() -> bool:
        active = control.inspect(timeout=0.5).active() or {}
        running = {task["worker_pid"] for tasks in active.values() for task in tasks}
        found[:] = [pid for pid in pool_children(worker_pid) if pid in running]
        return bool(found)

    try:
        stack.wait_until(busy, timeout_s, "a pool process running a task", interval_s=0.05)
    except TimeoutError:
        return None
    return found[0]


def _reruns(job: dict[str, Any]) -> int:
    return sum(max(0, count - 1) for count in job["attempts"].values())


def summary(name: str, st: LocalStack, ids: list[str], jobs: dict[str, dict[str, Any]], fault_at: float,
            settled_at: float, expected_reruns: int = 0, **extra: Any) -> dict[str, Any]:
    statuses = [jobs[job_id]["status"] if job_id in jobs else "missing" for job_id in ids]
    anomalies = list(st.anomalies)
    for job in jobs.values():
        anomalies.extend(st.object_anomalies(job))
    reruns = sum(_reruns(job) for job in jobs.values())
    stuck = [{key: jobs.get(job_id, {}).get(key) for key in ("job_id", "status", "stage", "message", "attempts")}
             for job_id, status in zip(ids, statuses, strict=True) if status not in TERMINAL]
    rerun_stages = sorted({key for job in jobs.values() for key, count in job["attempts"].items() if count > 1})
    if rerun_stages:
        extra = {**extra, "rerun_stages": rerun_stages}
    duplicates = len(anomalies) + max(0, reruns - expected_reruns)
    if stuck or duplicates:
        st.keep = True
        extra = {**extra, "stuck": stuck[:5], "data_dir": str(st.data_dir)}
    return {
        "scenario": name,
        "submitted": len(ids),
        "completed": statuses.count("completed"),
        "failed": statuses.count("failed"),
        "canceled": statuses.count("canceled"),
        "lost": sum(status not in TERMINAL for status in statuses),
        "duplicates": duplicates,
        "reruns": reruns,
        "recovery_s": round(settled_at - fault_at, 2),
        "anomalies": anomalies[:20],
        **extra,
    }


def _settled(st: LocalStack, ids: list[str], **kwargs: Any) -> tuple[dict[str, dict[str, Any]], float]:
    jobs = st.settle(ids, **kwargs)
    return jobs, time.monotonic()


# --- the scenarios ---------------------------------------------------------------------------------
def worker_child_killed(n: int = 50, kills: int = 2) -> dict[str, Any]:
    """(a) SIGKILL a pool process of the worker while jobs run: every job still completes."""
    with local_stack("kill") as st:
        ids = st.submit(n, "kill", {"sleep_s": 0.3})
        worker = st.workers[0]
        killed = 0
        fault_at = time.monotonic()
        for round_ in range(kills):
            st.wait_running(ids)
            victim = busy_pool_child(st, worker.process.pid)
            if victim is None:
                continue
            if round_ == 0:
                fault_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            killed += 1
            # wait for the pool to replace the process before the next kill
            stack.wait_until(lambda c=victim: c not in pool_children(worker.process.pid)
                             and len(pool_children(worker.process.pid)) >= 2, 30, "a new pool process")
        jobs, settled_at = _settled(st, ids)
        alive = worker.process.poll() is None
        # A killed pool process takes down the stage it runs and, at most, one more the pool had already
        # written to its pipe (the log says "Job: N" for each): both are redelivered, so up to 2 per kill.
        return summary("worker child SIGKILL", st, ids, jobs, fault_at, settled_at, expected_reruns=2 * killed,
                       kills=killed, worker_alive=alive)


def warm_shutdown(n: int = 50) -> dict[str, Any]:
    """(b) SIGTERM a worker with work in flight, start another: nothing lost, no finished stage re-run."""
    with local_stack("term") as st:
        ids = st.submit(n, "term", {"sleep_s": 0.3})
        first = st.workers[0]
        st.wait_running(ids, at_least=2)
        fault_at = time.monotonic()
        os.kill(first.process.pid, signal.SIGTERM)  # warm shutdown: finish what runs, give back the rest
        stack.wait_until(lambda: first.process.poll() is not None, 60, "the warm shutdown to finish")
        exit_code = first.process.returncode
        st.start_worker("rel-term-2")
        jobs, settled_at = _settled(st, ids)
        # Celery loses the acks of tasks that finish during a warm shutdown (celery/celery#3802), so their
        # messages come back; the stage sees it has finished and skips: counted here, never re-run.
        skipped = sum(path.read_text().count("has already finished") for path in st.log_dir.glob("worker-*.log"))
        return summary("worker SIGTERM (warm shutdown) + new worker", st, ids, jobs, fault_at, settled_at,
                       first_worker_exit=exit_code, finished_redeliveries_skipped=skipped)


def redis_restart(n: int = 50) -> dict[str, Any]:
    """(c) Redis killed and started again empty while jobs flow; the reconciler re-sends lost jobs."""
    with local_stack("redis", {"RECONCILE_QUEUED_AFTER_S": "0", "STALE_RUNNING_AFTER_S": "5"}) as st:
        # Two slow jobs occupy both pool processes, so the next ones are still queued (their first
        # message waiting in redis or reserved by the worker, unacked) when redis dies.
        slow = st.submit(2, "redis-inflight", {"sleep_s": 3})
        stack.wait_until(lambda: sum(job["stage"] == "generating_scene" for job in st.jobs(slow).values()) == 2,
                         60, "both slow jobs in their scene stage", interval_s=0.05)
        before = slow + st.submit(max(0, n // 2 - 2), "redis-queued")
        time.sleep(0.5)  # the scenario: let the queued messages reach redis and the worker before the crash
        fault_at = time.monotonic()
        assert st.redis is not None
        os.killpg(st.redis.process.pid, signal.SIGKILL)
        st.redis.process.wait(timeout=10)
        st.start_redis()  # same port, --save '': every queued and unacked message is gone
        stack.wait_until(st.ready, 60, "API /ready after the redis restart")
        api_recovered_s = time.monotonic() - fault_at
        after = st.submit(n - n // 2, "redis-after")
        requeued: list[str] = []
        resumed: list[str] = []
        failed_by_reconciler: list[str] = []
        last_reconcile = [0.0]

        def reconcile() -> None:
            if time.monotonic() - last_reconcile[0] < 2:
                return
            last_reconcile[0] = time.monotonic()
            try:
                report = st.http.post("/v1/reconcile").json()
            except (httpx.HTTPError, ValueError):
                return
            requeued.extend(report.get("requeued", []))
            resumed.extend(report.get("resumed", []))
            failed_by_reconciler.extend(report.get("failed", []))

        jobs, settled_at = _settled(st, before + after, nudge=reconcile)
        worker_alive = st.workers[0].process.poll() is None
        # a re-sent job whose first message was in fact still on its way may run a stage twice, and a
        # resumed one runs again the stage whose message was lost while it ran: allowed
        result = summary("redis killed + restarted empty", st, before + after, jobs, fault_at, settled_at,
                         expected_reruns=len(set(requeued)) + len(set(resumed)), requeued=len(set(requeued)),
                         resumed=len(set(resumed)),
                         failed_by_reconciler=len(set(failed_by_reconciler)),
                         api_recovered_s=round(api_recovered_s, 2), worker_alive=worker_alive)
        after_jobs = [jobs.get(job_id, {}).get("status") for job_id in after]
        result["completed_after_restart"] = after_jobs.count("completed")
        result["failed_codes"] = sorted({(job.get("error") or {}).get("code", "?") for job in jobs.values()
                                         if job["status"] == "failed"})
        return result


def time_limits(n: int = 50, slow: int = 2) -> dict[str, Any]:
    """(d) A stage past the soft time limit fails with a clear reason; the worker keeps serving.

    The limits leave ordinary (stub) stages a margin of many times their duration, so a busy machine's
    other core does not push one past them; only the injected slow jobs may fail.
    """
    with local_stack("limits", {"TASK_SOFT_TIME_LIMIT_S": "5", "TASK_TIME_LIMIT_S": "8"}) as st:
        worker = st.workers[0]
        st.settle(st.submit(2, "limits-warmup"), timeout_s=60)  # imports done in the pool before the clock matters
        fault_at = time.monotonic()
        slow_ids = st.submit(slow, "limits-slow", {"sleep_s": 30})
        fast_ids = st.submit(max(0, n - slow), "limits-fast")
        jobs, settled_at = _settled(st, slow_ids + fast_ids)
        errors = [jobs[job_id].get("error") or {} for job_id in slow_ids if job_id in jobs]
        leftovers = sorted(p.name for p in (st.data_dir / "tmp").glob("mmf-*"))
        return summary("soft time limit (5 s) exceeded", st, slow_ids + fast_ids, jobs, fault_at, settled_at,
                       slow_failed=sum(jobs.get(job_id, {}).get("status") == "failed" for job_id in slow_ids),
                       slow_errors=errors, fast_completed=sum(jobs.get(job_id, {}).get("status") == "completed"
                                                              for job_id in fast_ids),
                       scratch_left=leftovers, worker_alive=worker.process.poll() is None)


def hard_time_limit(n: int = 50, slow: int = 2) -> dict[str, Any]:
    """(f) A stage deaf to the soft limit is killed at the hard one: its job fails, the pool replaces the process.

    The slow jobs hang with signals blocked (``block_s`` of the fault-injection provider), as a stuck native
    call does, so only the hard limit's SIGKILL stops them; they occupy every pool process, so the fast jobs
    behind them complete only if the worker goes on serving with the processes it starts in their place.
    """
    with local_stack("hard", {"TASK_SOFT_TIME_LIMIT_S": "4", "TASK_TIME_LIMIT_S": "6"}) as st:
        worker = st.workers[0]
        st.settle(st.submit(2, "hard-warmup"), timeout_s=60)  # imports done in the pool before the clock matters
        pool_before = set(pool_children(worker.process.pid))
        fault_at = time.monotonic()
        slow_ids = st.submit(slow, "hard-slow", {"block_s": 30})
        fast_ids = st.submit(max(0, n - slow), "hard-fast")
        jobs, settled_at = _settled(st, slow_ids + fast_ids)
        slow_jobs = [jobs.get(job_id, {}) for job_id in slow_ids]
        return summary("hard time limit (6 s) exceeded", st, slow_ids + fast_ids, jobs, fault_at, settled_at,
                       slow_failed=sum(job.get("status") == "failed" for job in slow_jobs),
                       slow_errors=[job.get("error") or {} for job in slow_jobs],
                       slow_attempts=[job.get("attempts", {}).get("generating_scene") for job in slow_jobs],
                       fast_completed=sum(jobs.get(job_id, {}).get("status") == "completed" for job_id in fast_ids),
                       pool_replaced=len(pool_before - set(pool_children(worker.process.pid))),
                       scratch_left=sorted(p.name for p in (st.data_dir / "tmp").glob("mmf-*")),
                       worker_alive=worker.process.poll() is None)


def canceled_while_queued(n: int = 50) -> dict[str, Any]:
    """(g) Jobs canceled while queued, across a worker restart: none runs a stage, the others all complete.

    The first worker is told to stop (SIGTERM, warm shutdown) while two jobs run, so it takes no new
    message; ``n`` jobs are submitted and every other one canceled meanwhile, then a new worker starts.
    It must receive each canceled job's first message and skip it (Celery state ``IGNORED``), so no stage
    of a canceled job ever starts: no claim, no delivery counted, nothing stored.
    """
    import redis as redis_lib

    with local_stack("cancel") as st:
        first = st.workers[0]
        busy = st.submit(2, "cancel-busy", {"sleep_s": 1})
        st.wait_running(busy, at_least=2)
        fault_at = time.monotonic()
        os.kill(first.process.pid, signal.SIGTERM)
        queued = st.submit(n, "cancel-queued")
        canceled = queued[::2]
        refused = [job_id for job_id in canceled
                   if st.http.post(f"/v1/generations/{job_id}/cancel").json().get("status") != "canceled"]
        stack.wait_until(lambda: first.process.poll() is not None, 60, "the warm shutdown to finish")
        st.start_worker("rel-cancel-2")
        jobs, settled_at = _settled(st, busy + queued)
        results = redis_lib.Redis.from_url(st.redis_url)

        def state(job_id: str) -> str | None:
            meta = results.get(f"celery-task-meta-{job_id}:orchestrator.plan")
            return json.loads(meta)["status"] if meta else None

        with contextlib.suppress(TimeoutError):  # the last canceled messages may still be on their way
            stack.wait_until(lambda: all(state(job_id) == "IGNORED" for job_id in canceled), 60,
                             "the new worker to skip every canceled job")
        skipped = sum(state(job_id) == "IGNORED" for job_id in canceled)
        results.close()
        jobs = st.jobs(busy + queued)  # read again: after the skips, so a canceled job that ran would show it

        def ran(job_id: str) -> bool:
            job = jobs.get(job_id, {})
            return (job.get("status") != "canceled" or bool(job["started_at"] or job["attempts"] or job["artifacts"])
                    or (st.data_dir / "objects" / "jobs" / job_id).exists())

        others = [job_id for job_id in busy + queued if job_id not in canceled]
        return summary("canceled while queued + worker restart", st, busy + queued, jobs, fault_at, settled_at,
                       cancel_refused=len(refused), canceled_skipped=skipped,
                       canceled_ran=[job_id for job_id in canceled if ran(job_id)][:5],
                       others_completed=sum(jobs.get(job_id, {}).get("status") == "completed" for job_id in others),
                       first_worker_exit=first.process.returncode)


def results_expired(n: int = 50) -> dict[str, Any]:
    """(e) RESULT_EXPIRES_S=1: after Celery's results are gone the API still reports every job right."""
    import redis as redis_lib

    with local_stack("expire", {"RESULT_EXPIRES_S": "1"}) as st:
        ids = st.submit(n, "expire")
        jobs, _ = _settled(st, ids)
        client = redis_lib.Redis.from_url(st.redis_url)
        fault_at = time.monotonic()
        stack.wait_until(lambda: not list(client.scan_iter("celery-task-meta-*", count=1000)), 60,
                         "Celery results to expire")
        expired_after_s = time.monotonic() - fault_at
        client.close()
        again = st.jobs(ids)
        wrong = [job_id for job_id in ids if job_id not in again or again[job_id]["status"] != jobs[job_id]["status"]]
        status_ok = sum(st.http.get(f"/v1/generations/{job_id}/status").json().get("status") == jobs[job_id]["status"]
                        for job_id in ids if job_id in jobs)
        downloads_ok = sum(st.http.get(f"/v1/generations/{job_id}/download/manifest.json").status_code == 200
                           for job_id in ids if again.get(job_id, {}).get("status") == "completed")
        return summary("Celery results expired (RESULT_EXPIRES_S=1)", st, ids, again, fault_at, time.monotonic(),
                       reported_wrong=len(wrong) + (len(ids) - status_ok), manifests_served=downloads_ok,
                       results_expired_after_s=round(expired_after_s, 2))


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "kill": worker_child_killed,
    "term": warm_shutdown,
    "redis": redis_restart,
    "limits": time_limits,
    "hardlimit": hard_time_limit,
    "cancel": canceled_while_queued,
    "expire": results_expired,
}


def versions() -> dict[str, str]:
    import platform

    import celery
    import kombu
    import redis

    redis_server = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    return {
        "python": platform.python_version(), "celery": celery.__version__, "kombu": kombu.__version__,
        "redis-py": redis.__version__, "redis-server": next((w[2:] for w in redis_server if w.startswith("v=")), "?"),
        "platform": platform.platform(), "cpus": str(os.cpu_count()), "executable": sys.executable,
    }
