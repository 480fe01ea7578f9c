"""PLY -> .splat: the compiled converter against the naive one (argsort, then struct.pack per splat);
PLY -> .spz: time and size.

``python -m bench.splat_convert`` prints a table; ``main()`` returns the figures. Times are the
best of a few runs in this process; the baseline runs on 100k splats and, unless ``full_baseline``,
is extrapolated linearly to 1M (it is a per-splat Python loop: linear by construction, ~10 s at 1M).
Peak memory is measured twice: numpy's allocations (tracemalloc) in this process, and the resident
set of a fresh process doing one conversion, less the same process doing none, which also counts
the pages of the memory-mapped input that were read.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from bench.timing import best_time
from shared.splat.convert import SH_C0, ply_to_splat
from shared.splat.ply import Gaussians, open_ply, write_ply
from shared.splat.spz import ply_to_spz

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"max_vertices": 50_000_000, "max_bytes": 1 << 40}
BASELINE_SPLATS = 100_000


def synthetic_ply(path: Path, n: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    gaussians = Gaussians(
        means=rng.normal(size=(n, 3)).astype(np.float32), sh_dc=rng.normal(size=(n, 3)).astype(np.float32),
        sh_rest=rng.normal(0, 0.1, size=(n, 45)).astype(np.float32), opacities=rng.normal(size=n).astype(np.float32),
        log_scales=rng.normal(-4, 1, size=(n, 3)).astype(np.float32), quats=rng.normal(size=(n, 4)).astype(np.float32))
    return write_ply(path, gaussians)


def naive_convert(ply: Path, out: Path) -> None:
    """The reference's shape: read the columns, argsort by importance, then one struct.pack per field per splat."""
    v = np.array(open_ply(ply, **LIMITS))
    positions = np.stack([v["x"], v["y"], v["z"]], axis=-1)
    scales = np.stack([v["scale_0"], v["scale_1"], v["scale_2"]], axis=-1)
    rotations = np.stack([v["rot_0"], v["rot_1"], v["rot_2"], v["rot_3"]], axis=-1)
    sh_dc = np.stack([v["f_dc_0"], v["f_dc_1"], v["f_dc_2"]], axis=-1)
    opacity = v["opacity"]
    order = np.argsort(-(np.exp(scales.sum(axis=-1)) / (1 + np.exp(-opacity))))
    with open(out, "wb") as f:
        for i in order:
            f.write(struct.pack("<3f", *positions[i]))
            f.write(struct.pack("<3f", *np.exp(scales[i])))
            colour = np.clip(0.5 + SH_C0 * sh_dc[i], 0, 1)
            alpha = 1 / (1 + math.exp(-float(opacity[i])))
            f.write(struct.pack("4B", *(int(c * 255 + 0.5) for c in (*colour, alpha))))
            rotation = rotations[i] / np.linalg.norm(rotations[i])
            f.write(struct.pack("4B", *(min(255, max(0, int(r * 128 + 128.5))) for r in rotation)))


def traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def process_rss_delta(ply: Path, out: Path) -> int:
    """Peak RSS of a fresh process converting ``ply``, less that of one that only imports (bytes; Linux)."""
    def peak(convert: bool) -> int:
        # VmHWM, not ru_maxrss: Linux carries the parent's high-water mark into ru_maxrss across exec.
        code = ("import re\nfrom pathlib import Path\nfrom shared.splat.convert import ply_to_splat\n"
                + (f"ply_to_splat(Path({str(ply)!r}), Path({str(out)!r}), **{LIMITS!r})\n" if convert else "")
                + "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        return int(result.stdout.strip()) * 1024
    return peak(True) - peak(False)


def agree(ours: Path, theirs: Path) -> bool:
    """The same splats (matched by position), scales within 4 float32 ulps, colour and rotation bytes within
    one rounding unit.

    The orders may differ where two importances tie to float32 precision (the two compute them in a
    different sequence), so records are compared after sorting both by position. Ours takes exp in
    float64 and rounds once; the naive one uses numpy's float32 exp, a few ulps off at times.
    """
    a, b = (np.fromfile(path, np.uint8).reshape(-1, 32) for path in (ours, theirs))
    if a.shape != b.shape:
        return False
    a, b = (x[np.lexsort(x[:, :12].view("<u4").T)] for x in (a, b))
    scales_a, scales_b = a[:, 12:24].copy().view("<f4"), b[:, 12:24].copy().view("<f4")
    return (np.array_equal(a[:, :12], b[:, :12])
            and bool(np.all(np.abs(scales_a - scales_b) <= 4 * np.spacing(np.abs(scales_b))))
            and int(np.abs(a[:, 24:].astype(int) - b[:, 24:]).max()) <= 1)


def main(sizes: tuple[int, ...] = (100_000, 1_000_000), full_baseline: bool = False) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    baseline_per_splat = None
    with tempfile.TemporaryDirectory(prefix="bench-splat-") as scratch:
        work = Path(scratch)
        for n in sizes:
            ply, ours, theirs = work / f"{n}.ply", work / f"{n}.splat", work / f"{n}-naive.splat"
            compressed = work / f"{n}.spz"
            input_bytes = synthetic_ply(ply, n)
            os.sync()  # the input written back, not flushed to disk while the conversion is timed
            seconds = best_time(lambda ply=ply, ours=ours: ply_to_splat(ply, ours, **LIMITS), 10)
            spz_seconds = best_time(lambda ply=ply, compressed=compressed: ply_to_spz(ply, compressed, **LIMITS), 3)
            peak = traced_peak(lambda ply=ply, ours=ours: ply_to_splat(ply, ours, **LIMITS))
            row: dict[str, Any] = {"splats": n, "input_mb": input_bytes / 1e6, "seconds": seconds,
                                   "traced_peak_x_input": peak / input_bytes,
                                   "process_rss_x_input": process_rss_delta(ply, ours) / input_bytes,
                                   "spz_seconds": spz_seconds, "spz_x_input": compressed.stat().st_size / input_bytes}
            if n <= BASELINE_SPLATS or full_baseline:
                naive = best_time(lambda ply=ply, theirs=theirs: naive_convert(ply, theirs), 1)
                baseline_per_splat = naive / n
                row.update(baseline_seconds=naive, baseline_measured=True, outputs_agree=agree(ours, theirs))
            else:
                row.update(baseline_seconds=baseline_per_splat * n, baseline_measured=False)
            row["speedup"] = row["baseline_seconds"] / seconds
            results[f"{n} splats"] = row
    return results


def report(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| splats | input MB | ours (s) | naive (s) | speedup | peak / input (traced, process RSS) | agree "
             "| .spz (s) | .spz / PLY size |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in results.values():
        naive = f"{row['baseline_seconds']:.2f}" + ("" if row["baseline_measured"] else " (extrapolated)")
        lines.append(f"| {row['splats']:,} | {row['input_mb']:.0f} | {row['seconds']:.3f} | {naive} | "
                     f"{row['speedup']:.0f}x | {row['traced_peak_x_input']:.2f}x, {row['process_rss_x_input']:.2f}x | "
                     f"{row.get('outputs_agree', 'n/a')} | {row['spz_seconds']:.3f} | {row['spz_x_input']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(main(full_baseline="--full-baseline" in sys.argv)))
