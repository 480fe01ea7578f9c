"""Object factories: build time per factory on one core, and category accuracy on everyday prompts.

``python -m bench.objects`` prints both tables; ``main()`` returns the figures. The timing is what the
factory path of a text_to_3d job spends on the model itself (spec -> parts -> glTF scene -> GLB bytes,
at the standard tier), ``SEEDS`` seeds per category, in a child process pinned to one CPU with
single-threaded numpy. The prompts are written the way people ask for things (synonyms, colours,
materials, sizes, trailing context), one expected category each; none of them is in the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

SEEDS = 20
GOAL_S = 1.0
GOAL_ACCURACY = 0.90
PROMPTS: tuple[tuple[str, str], ...] = (
    ("a red ceramic vase", "vase"), ("a tall greek amphora", "vase"), ("a blue glass urn with handles", "vase"),
    ("a wooden chair", "chair"), ("a black metal kitchen chair", "chair"),
    ("a dining chair with a padded seat", "chair"),
    ("a cozy green armchair", "armchair"), ("a leather recliner", "armchair"),
    ("a grey three-seat couch", "sofa"), ("a velvet settee", "sofa"),
    ("a bar stool", "stool"), ("a small wooden footstool", "stool"),
    ("a long oak dining table", "dining_table"), ("a round kitchen table", "dining_table"),
    ("a glass coffee table", "coffee_table"), ("a low side table", "coffee_table"),
    ("a writing desk with drawers", "desk"), ("an office desk", "desk"),
    ("a double bed with white sheets", "bed"), ("a child's single bed", "bed"),
    ("a bookshelf full of books", "bookshelf"), ("a tall walnut bookcase", "bookshelf"),
    ("a kitchen cupboard", "cabinet"), ("an antique wardrobe", "cabinet"),
    ("a table lamp with a white shade", "table_lamp"), ("a brass desk lamp", "table_lamp"),
    ("a standing floor lamp", "floor_lamp"),
    ("a green wine bottle", "bottle"), ("a plastic water bottle", "bottle"),
    ("a coffee mug", "mug"), ("a big beer tankard", "mug"),
    ("a porcelain teacup and saucer", "cup"), ("a golden goblet", "cup"),
    ("a wooden salad bowl", "bowl"), ("a white dinner plate", "plate"),
    ("a blue china teapot", "teapot"), ("a mason jar with a lid", "jar"), ("a metal bucket", "bucket"),
    ("a small oak tree", "deciduous_tree"), ("an old apple tree", "deciduous_tree"),
    ("a snowy pine tree", "conifer_tree"), ("a christmas tree", "conifer_tree"),
    ("a tropical palm tree", "palm_tree"), ("a round green shrub", "bush"),
    ("a mossy boulder", "rock"), ("a red toadstool", "mushroom"),
    ("a potted fern", "potted_plant"), ("a houseplant in a terracotta pot", "potted_plant"),
    ("a yellow sunflower", "flower"), ("a single red rose", "flower"),
    ("a blue sports car", "car"), ("a yellow taxi", "car"), ("a red pickup truck", "truck"),
    ("a white sailboat", "boat"), ("a wooden rowboat", "boat"),
    ("a wooden crate", "crate"), ("an oak wine barrel", "barrel"), ("a pirate treasure chest", "chest"),
    ("a medieval sword", "sword"), ("a steel katana", "sword"), ("a round viking shield", "shield"),
    ("a park bench", "bench"), ("a white picket fence", "fence"), ("a victorian street lamp", "street_lamp"),
    ("a small cottage with a red roof", "house"), ("a stone castle tower", "tower"), ("a lighthouse", "tower"),
    ("a wine glass", "cup"), ("a cup of coffee", "cup"), ("a cactus in a pot", "potted_plant"),
    ("a rocking chair", "chair"), ("a nightstand", "cabinet"), ("a big red barn", "house"),
    ("an oil lamp", "table_lamp"), ("a wooden canoe", "boat"), ("a birch tree in autumn", "deciduous_tree"),
    ("a flower vase with tulips", "vase"), ("a stack of books", "bookshelf"), ("a pile of rocks", "rock"),
    ("a kettle", "teapot"),
)


def timings() -> dict[str, list[float]]:
    """Seconds per build, per category (runs in the pinned child)."""
    from shared.objects.base import build, catalogue, default_spec

    results: dict[str, list[float]] = {}
    for category in catalogue():
        build(default_spec(category, 0)).to_scene().export(file_type="glb")  # warm: imports, caches
        samples = []
        for seed in range(SEEDS):
            started = time.perf_counter()
            build(default_spec(category, seed)).to_scene().export(file_type="glb")
            samples.append(time.perf_counter() - started)
        results[category] = samples
    return results


def one_core_timings() -> dict[str, list[float]]:
    env = {**os.environ, **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")}
    code = ("import json, os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
            "from bench.objects import timings; print(json.dumps(timings()))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def accuracy() -> tuple[float, list[tuple[str, str, str]]]:
    """The share of ``PROMPTS`` whose category is right, and the misses (prompt, expected, got)."""
    from shared.errors import InvalidRequest
    from shared.objects.prompts import understand

    misses = []
    for prompt, expected in PROMPTS:
        try:
            got = understand(prompt, 0).spec.category
        except InvalidRequest:
            got = "refused"
        if got != expected:
            misses.append((prompt, expected, got))
    return 1 - len(misses) / len(PROMPTS), misses


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> dict[str, Any]:
    times = one_core_timings()
    every = [t for samples in times.values() for t in samples]
    share, misses = accuracy()
    return {"categories": len(times), "seeds": SEEDS, "p95_s": _p95(every), "max_s": max(every),
            "slowest": max(times, key=lambda c: _p95(times[c])), "slowest_p95_s": max(_p95(s) for s in times.values()),
            "median_s": sorted(every)[len(every) // 2], "accuracy": share, "prompts": len(PROMPTS), "misses": misses}


def report(results: dict[str, Any]) -> str:
    lines = [
        "| figure | result | goal |",
        "|---|---|---|",
        f"| build time p95 over {results['categories']} categories x {results['seeds']} seeds, one core (s) | "
        f"{results['p95_s']:.3f} | <= {GOAL_S:.1f} |",
        f"| slowest category's p95 ({results['slowest']}) (s) | {results['slowest_p95_s']:.3f} | <= {GOAL_S:.1f} |",
        f"| median / max build (s) | {results['median_s']:.3f} / {results['max_s']:.3f} | |",
        f"| category accuracy, {results['prompts']} everyday prompts | {results['accuracy']:.1%} | "
        f">= {GOAL_ACCURACY:.0%} |",
    ]
    if results["misses"]:
        lines += ["", "Misses: " + "; ".join(f"{p!r} -> {got} (expected {want})" for p, want, got in results["misses"])]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(main()))
