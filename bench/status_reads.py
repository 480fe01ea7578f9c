"""``GET /v1/generations/{id}`` requests/s while jobs are being written, against a bare route, same run.

A background thread keeps submitting stub env jobs (two at a time) while a worker runs them, so the
job store takes inserts and status writes from two processes during every read run; reads pick ids at
random from jobs submitted beforehand. Targets alternate, ``rounds`` times; figures are the means.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.submission import STUB_JOB, load, mean_runs, running_stack
from shared import queues

READ_CONCURRENCY = 16


def _submitter(url: str, stop: threading.Event, counter: list[int]) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            client.post("/v1/generations", json=STUB_JOB)
            counter[0] += 1


def main(duration_s: float = 4.0, rounds: int = 2, seed_jobs: int = 200) -> dict[str, Any]:
    import httpx

    runs: dict[str, list] = {"ours": [], "bare": []}
    with running_stack(workers={queues.CPU: 1}) as s:
        with httpx.Client(base_url=s.ours, timeout=30) as client:
            ids = [client.post("/v1/generations", json=STUB_JOB).json()["job_id"] for _ in range(seed_jobs)]
        paths = [f"/v1/generations/{job_id}" for job_id in ids]
        stop, counter = threading.Event(), [0]
        writers = [threading.Thread(target=_submitter, args=(s.ours, stop, counter), daemon=True) for _ in range(2)]
        for writer in writers:
            writer.start()
        started = time.perf_counter()
        try:
            load(s.ours, "", 4, 1, "GET", paths=paths)
            for number in range(rounds):
                order = (("bare", s.bare), ("ours", s.ours)) if number % 2 else (("ours", s.ours), ("bare", s.bare))
                for name, url in order:
                    runs[name].append(load(url, "", READ_CONCURRENCY, duration_s, "GET", paths=paths))
        finally:
            stop.set()
            for writer in writers:
                writer.join(timeout=30)
        elapsed = time.perf_counter() - started
    return {"ours": mean_runs(runs["ours"]), "bare": mean_runs(runs["bare"]), "concurrency": READ_CONCURRENCY,
            "writes_per_s": counter[0] / elapsed, "jobs": seed_jobs}


def table(results: dict[str, Any]) -> str:
    ours, bare = results["ours"], results["bare"]
    lines = ["| figure | ours | bare route | ratio (ours / bare) |", "|---|---|---|---|",
             f"| requests/s, concurrency {results['concurrency']} | {ours['rps']:.0f} | {bare['rps']:.0f} | "
             f"{ours['rps'] / bare['rps']:.2f} |"]
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        lines.append(f"| {label} latency (ms) | {ours[key]:.1f} | {bare[key]:.1f} | {ours[key] / bare[key]:.2f} |")
    lines.append(f"| failed requests | {ours['errors']} | {bare['errors']} | |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(main()))
