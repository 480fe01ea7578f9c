"""``make bench``: run every benchmark, print ratios, write ``docs/benchmarks.md``."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import celery

from bench import queue_overhead

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    results = queue_overhead.main(n=50)
    ours, raw = results["stub env job"], results["raw 3-task chain"]
    machine = f"{platform.machine()}, {platform.python_version()}, celery {celery.__version__}"
    rows = [
        ("submit -> completed p50 (ms)", ours["p50_ms"], raw["p50_ms"]),
        ("submit -> completed p95 (ms)", ours["p95_ms"], raw["p95_ms"]),
    ]
    lines = [
        "# Benchmarks",
        "",
        "Made by `make bench`; each figure beside its baseline measured in the same run.",
        "",
        "| figure | ours | baseline | ratio | machine |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name}: stub env job vs raw 3-task no-op chain (n={ours['n']}) | {a:.1f} | {b:.1f} | {a / b:.2f}x"
        f" | {machine} |"
        for name, a, b in rows
    ]
    report = "\n".join(lines) + "\n"
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
