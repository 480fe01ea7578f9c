"""``make bench``: run every benchmark, print ratios, write ``docs/benchmarks.md``."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import celery
import numpy

from bench import decimate, queue_overhead, splat_convert

ROOT = Path(__file__).resolve().parents[1]


def queue_section() -> list[str]:
    results = queue_overhead.main(n=50)
    ours, raw = results["stub env job"], results["raw 3-task chain"]
    rows = [("p50", ours["p50_ms"], raw["p50_ms"]), ("p95", ours["p95_ms"], raw["p95_ms"])]
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
        "Vectorised converter against the naive one (argsort, then `struct.pack` per splat), synthetic 3DGS PLYs.",
        "",
        splat_convert.report(splat_convert.main()),
    ]


def decimate_section() -> list[str]:
    return [
        "## Mesh decimation to the standard face budget",
        "",
        "fast-simplification through our post-processing, against the same call alone.",
        "",
        decimate.report(decimate.main()),
    ]


def main() -> int:
    machine = (f"{platform.machine()}, Python {platform.python_version()}, celery {celery.__version__}, "
               f"numpy {numpy.__version__}")
    lines = ["# Benchmarks", "", f"Made by `make bench` on {machine}; each figure beside its baseline, same run.", ""]
    for section in (queue_section, splat_section, decimate_section):
        lines += [*section(), ""]
        print("\n".join(lines[-12:]), flush=True)
    report = "\n".join(lines)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(report)
    print(f"\nwritten to {ROOT / 'docs' / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
