"""3DGS PLY -> ``.splat``: the 32-byte-per-splat layout web viewers stream, most important splats first.

Per splat: float32 x, y, z; float32 exp(scale) x, y, z; RGBA8 (SH DC colour, sigmoid opacity);
the normalised wxyz quaternion as uint8 (q * 128 + 128). Viewers draw the file progressively, so
the order is by importance (volume x opacity), descending.

Everything is columnar numpy over a memory-mapped input, processed in blocks small enough to stay
in cache; the final reorder is one ``np.take`` of 32-byte records (fancy-indexing a structured
array is ~20x slower), and every transcendental writes into a contiguous array (into a strided
view it is ~7x slower).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared.splat.ply import open_ply

SH_C0 = 0.28209479177387814
SPLAT_BYTES = 32
BLOCK_ROWS = 8192  # ~2 MB of input rows: a block stays in cache while its fields are gathered
FIELDS = ("x", "y", "z", "scale_0", "scale_1", "scale_2", "opacity", "f_dc_0", "f_dc_1", "f_dc_2",
          "rot_0", "rot_1", "rot_2", "rot_3")  # the PLY properties a .splat needs, in the order used below


def pack_splats(vertices: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """The sorted ``.splat`` records (a ``V32`` array) of validated PLY vertices, and their count and bounds."""
    names = list(vertices.dtype.names or ())
    n = len(vertices)
    rows = np.ndarray((n, len(names)), "<f4", buffer=vertices)
    wanted = [names.index(name) for name in FIELDS]
    packed = np.empty((n, SPLAT_BYTES // 4), np.float32)
    packed_bytes = packed.view(np.uint8)
    importance = np.empty(n, np.float32)
    low = np.full(3, np.inf, np.float32)
    high = np.full(3, -np.inf, np.float32)
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        # One strided gather per block gives each field as a contiguous row: ufuncs over rows of
        # (k, 3) views run their inner loop three elements at a time and are several times slower.
        columns = rows[start:stop].T[wanted]
        floats = np.empty((6, stop - start), np.float32)  # x, y, z, exp(scale) x, y, z
        floats[0:3] = columns[0:3]
        np.minimum(low, floats[0:3].min(axis=1), out=low)
        np.maximum(high, floats[0:3].max(axis=1), out=high)
        scales = floats[3:6]
        np.exp(columns[3:6], out=scales)

        alpha = columns[6]  # sigmoid in place
        np.negative(alpha, out=alpha)
        np.exp(alpha, out=alpha)
        alpha += 1.0
        np.reciprocal(alpha, out=alpha)
        chunk_importance = importance[start:stop]
        np.multiply(scales[0], scales[1], out=chunk_importance)
        chunk_importance *= scales[2]
        chunk_importance *= alpha

        # RGBA then the quaternion, as floats offset by +0.5: the cast to uint8 truncates, so it rounds.
        byte_fields = columns[6:14]
        byte_fields[0] = alpha
        byte_fields[0] *= 255.0
        byte_fields[0] += 0.5
        rgb = byte_fields[1:4]
        rgb *= SH_C0 * 255.0
        rgb += 128.0  # 0.5 * 255 + 0.5
        quats = byte_fields[4:8]
        norm = np.sqrt(np.einsum("ij,ij->j", quats, quats))
        degenerate = norm == 0.0
        if degenerate.any():  # a zero quaternion carries no rotation: write the identity
            quats[:, degenerate] = np.array([[1.0], [0.0], [0.0], [0.0]], np.float32)
            norm[degenerate] = 1.0
        np.divide(128.0, norm, out=norm)
        quats *= norm
        quats += 128.5
        np.clip(byte_fields, 0.0, 255.5, out=byte_fields)

        packed[start:stop, 0:6] = floats.T
        packed_bytes[start:stop, 24:27] = rgb.T
        packed_bytes[start:stop, 27] = byte_fields[0]
        packed_bytes[start:stop, 28:32] = quats.T

    order = np.argsort(importance)[::-1]
    records = np.take(packed.view(f"V{SPLAT_BYTES}").reshape(n), order)
    return records, {"splats": n, "bounds": {"min": low.tolist(), "max": high.tolist()}}


def ply_to_splat(ply: Path, out: Path, *, max_vertices: int, max_bytes: int) -> dict[str, Any]:
    """Convert a 3DGS PLY file to ``out`` (``.splat``); returns the splat count and the scene's bounds."""
    vertices = open_ply(ply, max_vertices=max_vertices, max_bytes=max_bytes)
    records, stats = pack_splats(vertices)
    with open(out, "wb") as f:
        records.tofile(f)
    return stats
