"""``python -m infra.reliability [--n N] [--only kill,term,…] [--out docs/reliability.md]``.

Runs every fault scenario of ``infra.reliability.scenarios`` at a larger N and writes the figures
as a Markdown table (``make reliability``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.reliability.scenarios import SCENARIOS, versions

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("scenario", "submitted", "completed", "failed", "canceled", "lost", "duplicates", "reruns", "recovery_s")
NOTES = {
    "kill": "SIGKILL a pool process that is running a stage (found with `inspect active`), twice, while jobs run "
            "(0.3 s stub stage); up to "
            "two re-runs per kill are expected: the stage the process ran and one the pool had already handed to "
            "it are both delivered again (late acks, reject on worker lost).",
    "term": "SIGTERM the worker (warm shutdown) with two jobs running, then start a new worker; "
            "`reruns` must be 0: no stage that finished is started again.",
    "redis": "two slow jobs (3 s stage) in flight and the next ones still queued when redis is SIGKILLed and "
             "restarted empty on the same port; the other half submitted afterwards; `POST /v1/reconcile` "
             "(RECONCILE_QUEUED_AFTER_S=0, STALE_RUNNING_AFTER_S=5) until all settle: queued jobs whose messages "
             "died are sent again (`requeued`), running ones from their first unfinished stage (`resumed`).",
    "limits": "TASK_SOFT_TIME_LIMIT_S=5, TASK_TIME_LIMIT_S=8; 2 jobs with a 30 s faulty stage (expected to "
              "fail: SoftTimeLimitExceeded), the rest normal stub jobs; the same worker serves them all.",
    "hardlimit": "TASK_SOFT_TIME_LIMIT_S=4, TASK_TIME_LIMIT_S=6; 2 jobs whose faulty stage hangs 30 s with signals "
                 "blocked (a stuck native call: deaf to the soft limit) take both pool processes, the rest queue "
                 "behind them; the slow ones must fail `time_limit` (TimeLimitExceeded) once each, the pool replace "
                 "both killed processes and the rest complete; the processes that replace them remove the killed "
                 "stages' scratch folders (`scratch_left` must be empty).",
    "cancel": "two jobs running (1 s stub stage) when the worker gets SIGTERM; while it shuts down, N jobs are "
              "submitted and every other one canceled, then a new worker starts. `canceled_ran` must be empty (no "
              "claim, no delivery counted, nothing stored) and `canceled_skipped` count every canceled job: the new "
              "worker received its first message and skipped it.",
    "expire": "RESULT_EXPIRES_S=1: all jobs finish, Celery's results are waited out of redis, then every "
              "job is read back through the API (status and manifest download).",
}


def render(results: list[tuple[str, dict[str, Any]]], n: int, seconds: float) -> str:
    lines = [
        "# Reliability figures",
        "",
        f"Written by `make reliability` (`python -m infra.reliability --n {n}`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds:.0f} s. Each scenario runs on its own fresh local "
        "stack: redis-server on a free port, one Celery worker on all queues (prefork, 2 processes), the API "
        "under uvicorn, its own `DATA_DIR`; jobs are `env` jobs with the stub planner and generator, unique "
        "prompts, `use_cache: false`.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for _, result in results:
        lines.append("| " + " | ".join(str(result.get(column, "")) for column in COLUMNS) + " |")
    lines += [
        "",
        "- **lost**: jobs not in a terminal state when the scenario stopped waiting (must be 0).",
        "- **duplicates**: a status seen going backwards, a completed job whose stored objects differ from its "
        "record (missing, other bytes, stray files), or stage re-runs the fault does not explain.",
        "- **reruns**: stage deliveries beyond the first, from the per-stage `attempts` on each job record.",
        "- **recovery_s**: seconds from the fault until every job had settled.",
        "",
        "## Scenarios",
        "",
    ]
    for key, result in results:
        extra = {k: v for k, v in result.items() if k not in COLUMNS and k != "anomalies"}
        lines.append(f"- **{result['scenario']}** — {NOTES.get(key, '')}  \n  `{json.dumps(extra, sort_keys=True)}`")
        if result.get("anomalies"):
            lines.append(f"  anomalies: `{result['anomalies']}`")
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in versions().items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.reliability", description=__doc__)
    parser.add_argument("--n", type=int, default=50, help="jobs per scenario (default 50)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results = []
    for key in args.only.split(","):
        print(f"== {key} (n={args.n})", flush=True)
        result = SCENARIOS[key](args.n)
        print(json.dumps(result, indent=1), flush=True)
        results.append((key, result))
    args.out.write_text(render(results, args.n, time.monotonic() - started))
    print(f"wrote {args.out}")
    return 1 if any(result["lost"] for _, result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
