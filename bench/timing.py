"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs: the least disturbed by whatever else the machine is doing."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best
