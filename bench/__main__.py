"""``make bench``: run every benchmark, print ratios, write ``docs/benchmarks.md``."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import celery
import fastapi
import numpy
import uvicorn

from bench import (
    batch,
    decimate,
    job_store,
    objects,
    photo_to_3d,
    queue_overhead,
    splat_convert,
    splat_train,
    status_reads,
    submission,
)

ROOT = Path(__file__).resolve().parents[1]


def queue_section() -> list[str]:
    results = queue_overhead.main(n=200)
    ours, raw = results["stub env job"], results["raw 3-task chain"]
    rows = [("p50", ours["p50_ms"], raw["p50_ms"]), ("p99", ours["p99_ms"], raw["p99_ms"])]
    lines = [
        "## Queue overhead: submit -> completed",
        "",
        f"A stub env job (HTTP submit, 3 stages, manifest) against a raw 3-task chain of no-op Celery tasks on the "
        f"same Redis and equally sized workers, one at a time, interleaved, n={ours['n']} each.",
        "",
        "| figure | ours (ms) | baseline (ms) | ratio |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {a:.1f} | {b:.1f} | {a / b:.2f}x |" for name, a, b in rows]
    return lines


def splat_section() -> list[str]:
    return [
        "## PLY -> .splat conversion",
        "",
        "Compiled converter (one numba pass, radix sort) against the naive one (argsort, then `struct.pack` per "
        "splat), synthetic 3DGS PLYs; goal: 1M splats in 75 ms or less. The traced peak counts numpy's "
        "allocations only (not the sort's, made inside numba); the process RSS counts everything.",
        "",
        splat_convert.report(splat_convert.main()),
    ]


def splat_train_section() -> list[str]:
    return [
        "## Splats trained on the CPU: a 48-frame video end to end",
        "",
        "The `cpu` trainer at its default budget beside the `points` preview, on the same SfM model, scored on "
        "held-out frames (every 8th); then the kernels' cost per step on the trained scene.",
        "",
        splat_train.report(splat_train.main()),
    ]


def decimate_section() -> list[str]:
    return [
        "## Mesh decimation to the standard face budget",
        "",
        "fast-simplification through our post-processing, against the same call alone.",
        "",
        decimate.report(decimate.main()),
    ]


def objects_section() -> list[str]:
    return [
        "## Object factories (text_to_3d default)",
        "",
        f"Build time of each factory's model (spec -> parts -> GLB bytes, standard tier), {objects.SEEDS} seeds per "
        f"category, one core (pinned, single-threaded numpy); and the keyword matcher's category on "
        f"{len(objects.PROMPTS)} everyday prompts (`bench/objects.py`).",
        "",
        objects.report(objects.main()),
    ]


def plots(results: dict) -> list[str]:
    """Throughput against concurrency and latency distributions; the markdown lines that show them."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["(plots skipped: matplotlib is not installed)"]
    levels = submission.CONCURRENCY
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("ours", "bare"):
        ax.plot(levels, [results[c][name]["rps"] for c in levels], marker="o", label=name)
    ax.set(xscale="log", xlabel="concurrency", ylabel="requests/s", title="POST /v1/generations throughput")
    ax.legend()
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "bench-submission-throughput.png", dpi=100)
    fig, axes = plt.subplots(1, len(levels), figsize=(4 * len(levels), 3.5))
    for ax, c in zip(axes, levels, strict=True):
        for name in ("ours", "bare"):
            cdf = results[c][name]["cdf_ms"]
            ax.plot(list(cdf.values()), list(cdf), label=name)
        ax.set(xscale="log", xlabel="latency (ms)", ylabel="percentile", title=f"concurrency {c}")
        ax.legend()
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "bench-submission-latency.png", dpi=100)
    plt.close("all")
    return ["![throughput against concurrency](bench-submission-throughput.png)", "",
            "![latency distributions](bench-submission-latency.png)"]


def submission_section() -> list[str]:
    results = submission.main()
    return [
        "## Submission: POST /v1/generations",
        "",
        f"Stub env jobs (`use_cache: false`) against a bare FastAPI route that does nothing, each its own uvicorn "
        f"process started the same way (`infra.local.stack.start_api`); closed-loop load from {results['tool']}, "
        f"{results['duration_s']:.0f} s per run, targets alternating, mean of {results['rounds']} rounds. No worker "
        "drains the queue during the runs: the figure is the API's own cost.",
        "",
        submission.table(results),
        "",
        *plots(results),
    ]


def status_section() -> list[str]:
    results = status_reads.main()
    return [
        "## Status reads: GET /v1/generations/{id} while jobs are written",
        "",
        f"Random ids of {results['jobs']} jobs; meanwhile two clients keep submitting stub env jobs and a worker runs "
        f"them ({results['writes_per_s']:.0f} submissions/s plus their status writes). Same bare app as above.",
        "",
        status_reads.table(results),
    ]


def batch_section() -> list[str]:
    return [
        "## Batch: 1,000 S3 keys",
        "",
        "Submission time (until the call returns), best of 3, alternating; not processing.",
        "",
        batch.table(batch.main()),
    ]


def job_store_section() -> list[str]:
    return [
        "## Job store: status updates with 4 writer processes (SQLite)",
        "",
        "Each writer: queued -> running, 8 progress updates, running -> completed per job; best of 2, alternating.",
        "",
        job_store.table(job_store.main()),
    ]


def photo_section() -> list[str]:
    return [
        "## Photo -> 3D: subject segmentation and the relief's inflated body",
        "",
        "Composited 1024 px photos with known subject masks (a scikit-image photo cut under a known outline, "
        "pasted on brick, grass, gravel, a café table or the Hubble deep field). IoU of the delivered model's "
        "front silhouette with the true mask; seconds of CPU work per picture (decode, segmentation, Poisson "
        "body, clean-up, GLB, thumbnail; best of two) with the process pinned to one core. Goals: mean IoU >= 0.9, "
        "none below 0.75, <= 5 s.",
        "",
        photo_to_3d.report(photo_to_3d.main()),
    ]


def in_fresh_process(section) -> list[str]:
    """Run one section in a new interpreter: each starts its own stack, and Celery's configuration
    (broker URL included) is fixed in a process once it is first used. Its progress goes to stderr."""
    code = f"import json; from bench.__main__ import {section.__name__} as s; print('\\nMMF-SECTION' + json.dumps(s()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out.rsplit("\nMMF-SECTION", 1)[1])


def main() -> int:
    (ROOT / "docs").mkdir(exist_ok=True)
    machine = (f"{platform.machine()}, Python {platform.python_version()}, celery {celery.__version__}, "
               f"numpy {numpy.__version__}, fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, "
               f"{os.cpu_count()} cores")
    lines = ["# Benchmarks", "", f"Made by `make bench` on {machine}; each figure beside its baseline, same run.", ""]
    for section in (submission_section, status_section, batch_section, job_store_section, queue_section,
                    splat_section, splat_train_section, decimate_section, objects_section, photo_section):
        new = [*in_fresh_process(section), ""]
        lines += new
        print("\n".join(new), flush=True)
    report = "\n".join(lines)
    (ROOT / "docs" / "benchmarks.md").write_text(report)
    print(f"\nwritten to {ROOT / 'docs' / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
