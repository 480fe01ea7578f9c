"""``POST /v1/generations`` throughput and latency against a bare FastAPI route, same uvicorn, same run.

``python -m bench.submission`` prints a table; ``main()`` returns the figures. Load comes from ``wrk``
(C, epoll) when it is installed, otherwise from an asyncio httpx client (slower: it then measures the
client as much as the server, on both sides alike). Both apps run as their own uvicorn process started
by ``infra.local.stack.start_api`` (identical settings); the targets alternate at every concurrency,
``rounds`` times, and the figures are the means over rounds.

No worker consumes the queues here: the figure is what the API costs (validate, record, send the
chain), not how fast stub jobs finish; the messages wait in Redis and go when the stack stops.
Submissions use stub providers and ``use_cache: false``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local import stack

STUB_JOB = {"kind": "env", "prompt": "bench", "providers": {"plan": "stub", "env": "stub"}, "use_cache": False}
BARE_FACTORY = "bench.submission:create_bare_app"
CONCURRENCY = (1, 16, 64)
PERCENTILES = (*range(1, 100), 99.5, 99.9)


def create_bare_app():
    """The baseline: the same routes doing nothing (no body model, no store, no broker)."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/generations", status_code=202)
    async def create() -> dict[str, str]:
        return {"job_id": "0" * 32, "status": "queued"}

    @app.get("/v1/generations/{job_id}")
    async def read(job_id: str) -> dict[str, str]:
        return {"job_id": job_id, "status": "queued"}

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


@dataclass
class Stack:
    data_dir: Path
    env: dict[str, str]
    ours: str
    bare: str
    services: list[stack.Service] = field(default_factory=list)


@contextlib.contextmanager
def running_stack(workers: dict[str, int] | None = None) -> Iterator[Stack]:
    """Redis, our API and the bare app (and the named ``{queue: concurrency}`` workers) on free ports."""
    data_dir = Path(tempfile.mkdtemp(prefix="mmf-bench-"))
    redis_port, api_port, bare_port = stack.free_port(), stack.free_port(), stack.free_port()
    env = stack.stack_env(data_dir, redis_port, api_port)
    os.environ.update({k: env[k] for k in ("DATA_DIR", "REDIS_URL", "API_PORT")})
    from shared.config import get_settings
    from shared.jobs import get_job_store
    from shared.storage import get_object_store

    get_settings.cache_clear()
    get_job_store.cache_clear()
    get_object_store.cache_clear()
    services = [stack.start_redis(redis_port, data_dir / "run", env)]
    try:
        names = []
        for queue_name, concurrency in (workers or {}).items():
            names.append(queue_name.replace("_tasks", ""))
            services.append(stack.start_worker([queue_name], env, data_dir / "logs", names[-1], concurrency))
        services.append(stack.start_api("127.0.0.1", api_port, env, data_dir / "logs"))
        services.append(stack.start_api("127.0.0.1", bare_port, env, data_dir / "logs", BARE_FACTORY, "bare"))
        ours, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
        stack.wait_for_api(ours)
        stack.wait_for_api(bare)
        if names:
            stack.wait_for_workers(names)
        yield Stack(data_dir, env, ours, bare, services)
    finally:
        for service in reversed(services):
            service.stop(timeout_s=5)
        shutil.rmtree(data_dir, ignore_errors=True)


# --- load generation ---------------------------------------------------------------------------------

LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("MMF requests %d duration_us %d status_errors %d socket_errors %d\\n", summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
  for _, p in ipairs({PERCENTILES}) do io.write(string.format("MMF p %g %d\\n", p, latency:percentile(p))) end
end
"""


def lua_script(method: str, body: dict[str, Any] | None, paths: list[str] | None) -> str:
    """A wrk script: a fixed POST body, or GETs of paths picked at random; prints requests and percentiles."""
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines += [f"wrk.body = {json.dumps(json.dumps(body))}", 'wrk.headers["Content-Type"] = "application/json"']
    if paths:
        lines += ["paths = {" + ", ".join(json.dumps(p) for p in paths) + "}",
                  "request = function() return wrk.format(nil, paths[math.random(#paths)]) end"]
    return "\n".join(lines) + LUA_DONE.replace("PERCENTILES", ", ".join(str(p) for p in PERCENTILES))


def run_wrk(url: str, concurrency: int, duration_s: float, method: str = "GET", body: dict | None = None,
            paths: list[str] | None = None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(method, body, paths))
    try:
        threads = min(concurrency, 2)
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(duration_s))}s",
                              "--timeout", "10s", "-s", script.name, url], capture_output=True, text=True,
                             check=True, timeout=duration_s + 30).stdout
    finally:
        os.unlink(script.name)
    head = re.search(r"MMF requests (\d+) duration_us (\d+) status_errors (\d+) socket_errors (\d+)", out)
    if head is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    requests, duration_us, status_errors, socket_errors = map(int, head.groups())
    cdf = {float(p): int(us) / 1000 for p, us in re.findall(r"MMF p ([\d.]+) (\d+)", out)}
    return {"rps": requests / (duration_us / 1e6), "requests": requests, "errors": status_errors + socket_errors,
            "p50_ms": cdf[50.0], "p99_ms": cdf[99.0], "cdf_ms": cdf}


async def _httpx_load(url: str, concurrency: int, duration_s: float, method: str, body: dict | None,
                      paths: list[str] | None) -> dict[str, Any]:
    import random

    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        started = time.perf_counter()
        deadline = started + duration_s

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) < 200_000:
                path = random.choice(paths) if paths else ""
                t0 = time.perf_counter()
                response = await client.request(method, url + path, json=body)
                latencies.append(time.perf_counter() - t0)
                errors += response.status_code >= 400

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    cdf = {float(p): 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] for p in PERCENTILES}
    return {"rps": len(latencies) / elapsed, "requests": len(latencies), "errors": errors,
            "p50_ms": cdf[50.0], "p99_ms": cdf[99.0], "cdf_ms": cdf}


def load(base_url: str, path: str, concurrency: int, duration_s: float, method: str = "GET",
         body: dict | None = None, paths: list[str] | None = None) -> dict[str, Any]:
    """Closed-loop load: ``concurrency`` connections, each sending its next request when the last is answered."""
    if shutil.which("wrk"):
        return run_wrk(base_url + path, concurrency, duration_s, method, body, paths)
    return asyncio.run(_httpx_load(base_url + path if not paths else base_url, concurrency, duration_s, method,
                                   body, paths))


def load_tool() -> str:
    if shutil.which("wrk"):
        return subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(" [")[0]
    import httpx

    return f"httpx {httpx.__version__} (asyncio)"


def mean_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rps", "p50_ms", "p99_ms")
    merged = {key: statistics.fmean(run[key] for run in runs) for key in keys}
    merged["requests"] = sum(run["requests"] for run in runs)
    merged["errors"] = sum(run["errors"] for run in runs)
    merged["cdf_ms"] = {p: statistics.fmean(run["cdf_ms"][p] for run in runs) for p in runs[0]["cdf_ms"]}
    return merged


# --- the benchmark -------------------------------------------------------------------------------------

def main(duration_s: float = 4.0, rounds: int = 2, concurrency: tuple[int, ...] = CONCURRENCY) -> dict[str, Any]:
    """``{concurrency: {"ours": figures, "bare": figures}}`` plus the load tool's name."""
    runs: dict[int, dict[str, list]] = {c: {"ours": [], "bare": []} for c in concurrency}
    with running_stack() as s:
        # warm both: imports, provider registry, connection pools, SQLite schema
        load(s.ours, "/v1/generations", 4, 1, "POST", STUB_JOB)
        load(s.bare, "/v1/generations", 4, 1, "POST", STUB_JOB)
        for number in range(rounds):
            for c in concurrency:
                order = (("bare", s.bare), ("ours", s.ours)) if number % 2 else (("ours", s.ours), ("bare", s.bare))
                for name, url in order:
                    runs[c][name].append(load(url, "/v1/generations", c, duration_s, "POST", STUB_JOB))
    results: dict[str, Any] = {c: {name: mean_runs(r) for name, r in by.items()} for c, by in runs.items()}
    results["tool"] = load_tool()
    results["duration_s"], results["rounds"] = duration_s, rounds
    return results


def table(results: dict[str, Any], concurrency: tuple[int, ...] = CONCURRENCY) -> str:
    lines = ["| figure | ours | bare route | ratio (ours / bare) |", "|---|---|---|---|"]
    for c in concurrency:
        ours, bare = results[c]["ours"], results[c]["bare"]
        lines.append(f"| requests/s, concurrency {c} | {ours['rps']:.0f} | {bare['rps']:.0f} | "
                     f"{ours['rps'] / bare['rps']:.2f} |")
        for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
            lines.append(f"| {label} latency (ms), concurrency {c} | {ours[key]:.1f} | {bare[key]:.1f} | "
                         f"{ours[key] / bare[key]:.2f} |")
    errors = sum(results[c][n]["errors"] for c in concurrency for n in ("ours", "bare"))
    lines.append(f"| failed requests (any non-2xx or socket error) | {errors} | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    figures = main(duration_s=float(sys.argv[1]) if len(sys.argv) > 1 else 4.0)
    print(table(figures))
