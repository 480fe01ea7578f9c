"""``--wait``: follow jobs to the end, one progress bar per job.

Each job is followed by a thread on its Server-Sent Events stream; when the stream cannot be had or
breaks, that thread polls ``/status`` instead. At most ``MAX_STREAMS`` are followed at once (a batch
of hundreds should not hold hundreds of connections); the others keep their last known line until
a slot frees. On a terminal the bars are redrawn in place; in a pipe or a log, a line is printed
each time a job changes, so the output stays readable there too.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from apps.cli.client import TERMINAL, Api, ApiError, Unreachable

MAX_STREAMS = 16
POLL_INTERVAL_S = 0.5
POLL_FAILURES_TOLERATED = 3
BAR_WIDTH = 24
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ANSI_SPLIT = re.compile(r"(\x1b\[[0-9;]*m)")
_COLORS = {"completed": "\x1b[32m", "failed": "\x1b[31m", "canceled": "\x1b[33m", "running": "\x1b[36m"}


def follow(api: Api, job_id: str, update: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Report every status change of one job through ``update``; return its terminal status."""
    try:
        while True:
            last = None
            for last in api.events(job_id):
                update(last)
                if last["status"] in TERMINAL:
                    return last
            if last is None:
                break  # a stream that carried nothing at all: do not reconnect in a loop
            # The server closes streams after EVENTS_MAX_DURATION_S: reconnect.
    except (ApiError, Unreachable, ValueError, KeyError):
        pass
    failures = 0
    while True:
        try:
            status = api.status(job_id)
            failures = 0
        except Unreachable:
            failures += 1
            if failures > POLL_FAILURES_TOLERATED:
                raise
            time.sleep(POLL_INTERVAL_S * 2**failures)
            continue
        update(status)
        if status["status"] in TERMINAL:
            return status
        time.sleep(POLL_INTERVAL_S)


def bar(progress: int, width: int = BAR_WIDTH) -> str:
    progress = max(0, min(100, progress))
    filled = round(width * progress / 100)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


@dataclass(eq=False)
class Row:
    job_id: str
    label: str
    status: dict[str, Any] = field(default_factory=dict)

    def text(self, color: bool) -> str:
        state = self.status.get("status", "queued")
        progress = int(self.status.get("progress") or 0)
        stage = self.status.get("stage") or ""
        shown = f"{_COLORS[state]}{state:<9}\x1b[0m" if color and state in _COLORS else f"{state:<9}"
        line = f"{self.job_id[:12]}  {self.label[:28]:<28} {bar(progress)} {progress:3d}%  {shown} {stage}"
        error = self.status.get("error") or {}
        if error.get("message"):
            line += f"  {error['message']}"
        elif self.status.get("message") and state not in TERMINAL:
            line += f"  {self.status['message']}"
        return line


class Board:
    """The bars of every watched job; threads update rows, the main thread draws."""

    def __init__(self, out: TextIO, rows: list[Row], live: bool, color: bool) -> None:
        self.out, self.rows, self.live, self.color = out, rows, live, color
        self.by_id = {row.job_id: row for row in rows}
        self.lock = threading.Lock()
        self.changed: list[Row] = []
        self.drawn = 0

    def update(self, status: dict[str, Any]) -> None:
        with self.lock:
            row = self.by_id[status["job_id"]]
            if _shown(row.status) != _shown(status):
                self.changed.append(row)
            row.status = status

    def draw(self) -> None:
        with self.lock:
            changed, self.changed = self.changed, []
            if self.drawn and not changed:
                return
            if self.live:
                width = shutil.get_terminal_size((120, 20)).columns
                moves = f"\x1b[{self.drawn}F" if self.drawn else ""
                lines = [f"\x1b[2K{_fit(row.text(self.color), width)}" for row in self.rows]
                self.out.write(moves + "\n".join(lines) + "\n")
                self.drawn = len(self.rows)
            else:
                for row in dict.fromkeys(changed):
                    self.out.write(row.text(False) + "\n")
            self.out.flush()


def _shown(status: dict[str, Any]) -> tuple:
    return status.get("status"), status.get("stage"), status.get("progress"), status.get("message")


def _fit(line: str, width: int) -> str:
    """Cut a line to the terminal width (colour codes take no columns) so redrawing in place stays aligned."""
    if len(_ANSI.sub("", line)) < width:
        return line
    parts, visible = [], 0
    for part in _ANSI_SPLIT.split(line):
        if _ANSI.fullmatch(part):
            parts.append(part)
            continue
        kept = part[: max(width - 1 - visible, 0)]
        parts.append(kept)
        visible += len(kept)
    return "".join(parts)


def wait_for(api: Api, jobs: list[tuple[str, str]], out: TextIO, live: bool, color: bool,
             show: bool = True) -> dict[str, dict[str, Any] | BaseException]:
    """Follow ``(job_id, label)`` pairs to the end; each job's terminal status, or the error that stopped it."""
    rows = [Row(job_id, label) for job_id, label in jobs]
    board = Board(out, rows, live, color)
    results: dict[str, dict[str, Any] | BaseException] = {}
    slots = threading.BoundedSemaphore(MAX_STREAMS)

    def watch(job_id: str) -> None:
        with slots:
            try:
                results[job_id] = follow(api, job_id, board.update)
            except BaseException as exc:
                results[job_id] = exc

    # Daemon threads: Ctrl-C ends the CLI at once, even with a stream waiting for its next event.
    threads = [threading.Thread(target=watch, args=(job_id,), daemon=True) for job_id, _ in jobs]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        if show:
            board.draw()
        for thread in threads:
            thread.join(timeout=0.1)
            if thread.is_alive():
                break
    if show:
        board.draw()
    return results
