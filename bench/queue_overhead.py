"""Submit -> completed for stub env jobs against a raw 3-task Celery chain of no-op tasks.

Both run one at a time, interleaved, on one Redis and equally sized workers; latency is taken
from wall-clock stamps written by the last task (ours: the job's ``completed_at``).
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime

import httpx
from celery import chain

from infra.local import stack

# Stub providers: the figure is what our machinery adds, not what a real generator costs.
STUB_JOB = {"kind": "env", "providers": {"plan": "stub", "env": "stub"}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(n: int, api_url: str) -> dict[str, dict[str, float]]:
    from bench.noop_chain import noop

    ours: list[float] = []
    raw: list[float] = []
    with httpx.Client(base_url=api_url, timeout=30) as client:
        for i in range(n + 3):
            submitted = time.time()
            job_id = client.post("/v1/generations", json=STUB_JOB | {"prompt": f"bench {i}"}).json()["job_id"]
            while (job := client.get(f"/v1/generations/{job_id}").json())["status"] not in ("completed", "failed"):
                time.sleep(0.005)
            assert job["status"] == "completed", job
            done = datetime.fromisoformat(job["completed_at"]).timestamp()

            start = time.time()
            finished = chain(noop.s(), noop.s(), noop.s()).apply_async().get(timeout=30)
            if i >= 3:  # the first few warm up imports and connections on both sides
                ours.append(done - submitted)
                raw.append(finished - start)
    return {
        name: {"p50_ms": 1000 * statistics.median(v), "p99_ms": 1000 * percentile(v, 0.99), "n": len(v)}
        for name, v in (("stub env job", ours), ("raw 3-task chain", raw))
    }


def main(n: int = 50) -> dict[str, dict[str, float]]:
    import os
    import tempfile
    from pathlib import Path

    data_dir = Path(tempfile.mkdtemp(prefix="mmf-bench-"))
    redis_port, api_port = stack.free_port(), stack.free_port()
    env = stack.stack_env(data_dir, redis_port, api_port)
    os.environ.update({k: env[k] for k in ("DATA_DIR", "REDIS_URL", "API_PORT")})
    services = [stack.start_redis(redis_port, data_dir / "run", env)]
    try:
        from shared import queues

        services.append(stack.start_worker(list(queues.ALL_QUEUES), env, data_dir / "logs", "bench", 2))
        noop_argv = [*services[-1].process.args[:4], "bench.noop_chain", "worker", "-Q", "bench_noop", "-n",
                     "noop@%h", "-c", "2", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
        services.append(stack.spawn("worker-noop", noop_argv, env, data_dir / "logs"))
        services.append(stack.start_api("127.0.0.1", api_port, env, data_dir / "logs"))
        stack.wait_for_workers(["bench", "noop"])
        stack.wait_for_api(f"http://127.0.0.1:{api_port}")
        return run(n, f"http://127.0.0.1:{api_port}")
    finally:
        for service in reversed(services):
            service.stop()
