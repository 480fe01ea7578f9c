"""Decimating a 1M-face mesh to the standard face budget, as post-processing does it.

``python -m bench.decimate`` prints a table; ``main()`` returns the figures. Three timings of the
same input (a bumpy, vertex-coloured sphere): the bare fast-simplification call, our ``decimate``
(welding, the call, clean-up of the result) and the whole ``finish`` step (merging and dropping
degenerate faces first, decimation, colours carried over). Each is the best of ``repeat`` runs in this process.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import trimesh

from bench.timing import best_time
from shared.assets.postprocess import clean, decimate, finish
from shared.config import Settings


def bumpy_sphere(faces: int, seed: int = 0) -> trimesh.Trimesh:
    """A closed sphere of about ``faces`` triangles with a rough surface and per-vertex colours."""
    side = int(math.sqrt(faces / 4))  # a UV sphere of count (n, n) has about 4 n^2 faces
    sphere = trimesh.creation.uv_sphere(count=[side, side])
    rng = np.random.default_rng(seed)
    sphere.vertices *= 1.0 + 0.02 * rng.standard_normal((len(sphere.vertices), 1))
    colours = np.column_stack([rng.integers(0, 256, (len(sphere.vertices), 3)), np.full(len(sphere.vertices), 255)])
    sphere.visual = trimesh.visual.ColorVisuals(sphere, vertex_colors=colours.astype(np.uint8))
    return clean(sphere)


def main(faces: int = 1_000_000, repeat: int = 3) -> dict[str, Any]:
    import fast_simplification

    budget = Settings().asset_face_budget_standard
    mesh = bumpy_sphere(faces)
    out = decimate(mesh, budget)
    return {
        "faces_in": len(mesh.faces),
        "budget": budget,
        "faces_out": len(out.faces),
        "simplify_s": best_time(lambda: fast_simplification.simplify(mesh.vertices, mesh.faces,
                                                                      target_count=budget), repeat),
        "decimate_s": best_time(lambda: decimate(mesh, budget), repeat),
        "finish_s": best_time(lambda: finish(mesh.copy(), budget, 1024), repeat),
    }


def report(result: dict[str, Any]) -> str:
    return "\n".join([
        "| input faces | budget | output faces | fast-simplification (s) | decimate (s) | finish with colours (s) |",
        "|---|---|---|---|---|---|",
        f"| {result['faces_in']:,} | {result['budget']:,} | {result['faces_out']:,} | {result['simplify_s']:.2f} | "
        f"{result['decimate_s']:.2f} | {result['finish_s']:.2f} |",
    ])


if __name__ == "__main__":
    print(report(main(repeat=int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
