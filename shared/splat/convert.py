"""3DGS PLY -> ``.splat``: the 32-byte-per-splat layout web viewers stream, most important splats first.

Per splat: float32 x, y, z; float32 exp(scale) x, y, z; RGBA8 (SH DC colour, sigmoid opacity);
the normalised wxyz quaternion as uint8 (q * 128 + 128). Viewers draw the file progressively, so
the order is by importance (volume x opacity), descending.

One compiled pass over the memory-mapped rows (numba, parallel over chunks of rows) packs every
record and computes its importance and the scene's bounds; an LSD radix sort on the importance's
float bits ranks them (exact: non-negative floats order as their bit patterns do; numpy's argsort
was a third of the vectorised numpy version this replaces); a parallel scatter of the 32-byte
records (as 64-bit words) to their ranks reorders them. The packing pass dominates, by its arithmetic (four
``expf`` calls a splat) more than by reading the 248-byte rows, of which a ``.splat`` needs 56 bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numba
import numpy as np

from shared.splat.ply import open_ply

SH_C0 = 0.28209479177387814
SPLAT_BYTES = 32
RADIX_BITS = 8
FIELDS = ("x", "y", "z", "scale_0", "scale_1", "scale_2", "opacity", "f_dc_0", "f_dc_1", "f_dc_2",
          "rot_0", "rot_1", "rot_2", "rot_3")  # the PLY properties a .splat needs, in the order used below


@numba.njit(inline="always")
def _byte(value):
    """Round a float32 and clamp it to 0..255 (+ 0.5, then the cast truncates)."""
    return np.uint32(min(np.float32(255.0), max(np.float32(0.0), value + np.float32(0.5))))


@numba.njit(cache=True, parallel=True)
def _pack(rows, columns, chunks, packed, importance, low, high):
    """One pass over the rows in file order: each splat's record into ``packed`` ((n, 32) bytes), its
    importance and per-chunk bounds.

    Float32 arithmetic throughout (what the record stores; one rounding of exp's correctly rounded
    result), the 14 column numbers a tuple (registers, not memory the record's byte stores might
    alias, so nothing is reloaded per splat), bounds kept in registers until the chunk ends, and the
    colour and rotation bytes stored as one 32-bit word each. Row and column numbers are unsigned: numba
    adds a negative-index wraparound to every array index it cannot prove non-negative."""
    n = rows.shape[0]
    floats = packed.view(np.float32)
    words = packed.view(np.uint32)
    size = (n + chunks - 1) // chunks
    half, full, c0 = np.float32(0.5), np.float32(255.0), np.float32(SH_C0)
    for chunk in numba.prange(chunks):
        lx = ly = lz = np.float32(np.inf)
        hx = hy = hz = np.float32(-np.inf)
        for splat in range(chunk * size, min(n, (chunk + 1) * size)):
            i = np.uint64(splat)
            row = rows[i]
            x, y, z = row[columns[0]], row[columns[1]], row[columns[2]]
            lx, ly, lz = min(lx, x), min(ly, y), min(lz, z)
            hx, hy, hz = max(hx, x), max(hy, y), max(hz, z)
            sx, sy, sz = np.exp(row[columns[3]]), np.exp(row[columns[4]]), np.exp(row[columns[5]])
            floats[i, 0], floats[i, 1], floats[i, 2] = x, y, z
            floats[i, 3], floats[i, 4], floats[i, 5] = sx, sy, sz
            alpha = np.float32(1.0) / (np.float32(1.0) + np.exp(-row[columns[6]]))
            importance[i] = sx * sy * sz * alpha
            r = _byte((half + c0 * row[columns[7]]) * full)
            g = _byte((half + c0 * row[columns[8]]) * full)
            b = _byte((half + c0 * row[columns[9]]) * full)
            words[i, 6] = r | (g << np.uint32(8)) | (b << np.uint32(16)) | (_byte(alpha * full) << np.uint32(24))
            qw, qx, qy, qz = row[columns[10]], row[columns[11]], row[columns[12]], row[columns[13]]
            norm = qw * qw + qx * qx + qy * qy + qz * qz
            if norm == 0.0:  # a zero quaternion carries no rotation: write the identity
                words[i, 7] = np.uint32(255 | (128 << 8) | (128 << 16) | (128 << 24))
                continue
            scale, offset = np.float32(128.0) / np.sqrt(norm), np.float32(128.0)
            w, u, v, t = (_byte(qw * scale + offset), _byte(qx * scale + offset), _byte(qy * scale + offset),
                          _byte(qz * scale + offset))
            words[i, 7] = w | (u << np.uint32(8)) | (v << np.uint32(16)) | (t << np.uint32(24))
        low[chunk, 0], low[chunk, 1], low[chunk, 2] = lx, ly, lz
        high[chunk, 0], high[chunk, 1], high[chunk, 2] = hx, hy, hz


@numba.njit(cache=True)
def _radix_ranks(importance_bits, ping, pong, ranks):
    """``ranks[i]``: where splat ``i`` goes when the splats are ordered by descending importance (ties in
    file order), from the importances' float32 bits. An LSD radix sort, RADIX_BITS bits a pass, of
    inverted key and index packed in one 64-bit word (one stream written per bucket, not two), through
    ``ping`` and ``pong`` ((n,) uint64); the last pass writes each splat's rank (int32: under 2**31 splats)
    instead of moving it.

    Inverted, the bits of non-negative floats order ascending as their values order descending. Every
    pass's histogram is counted in one read of the keys first, and a pass whose digit is the same for
    every key is skipped. Shifts and masks stay unsigned: mixed with signed integers, numba computes
    bucket numbers in floating point, several times slower."""
    n = importance_bits.shape[0]
    passes, buckets = 32 // RADIX_BITS, 1 << RADIX_BITS
    mask = np.uint64(buckets - 1)
    starts = np.zeros((passes, buckets + 1), np.int64)
    for i in range(n):
        key = np.uint64(~importance_bits[i])
        for p in range(passes):
            starts[p, np.int64((key >> np.uint64(p * RADIX_BITS)) & mask) + 1] += 1
    active = [p for p in range(passes) if starts[p].max() != n]
    if not active:  # every key the same (or no splats): the file's order is the order
        for i in range(n):
            ranks[i] = i
        return
    for p in active:
        for b in range(buckets):
            starts[p, b + 1] += starts[p, b]
    low = np.uint64(0xFFFFFFFF)
    source, target = ping, pong
    for i in range(n):  # the first pass reads the keys and numbers them
        source[i] = (np.uint64(~importance_bits[i]) << np.uint64(32)) | np.uint64(i)
    for p in active[:-1]:
        shift = np.uint64(32 + p * RADIX_BITS)
        for i in range(n):
            word = source[i]
            b = np.int64((word >> shift) & mask)
            j = starts[p, b]
            target[j] = word
            starts[p, b] = j + 1
        source, target = target, source
    p = active[-1]
    shift = np.uint64(32 + p * RADIX_BITS)
    for i in range(n):
        word = source[i]
        b = np.int64((word >> shift) & mask)
        j = starts[p, b]
        ranks[np.int64(word & low)] = j
        starts[p, b] = j + 1


@numba.njit(cache=True, parallel=True)
def _scatter(packed, ranks, chunks, records):
    """``records[ranks[i]] = packed[i]`` for records of four 64-bit words, parallel over chunks: the records
    are read in order and written scattered (a scattered write does not stall the loop the way a
    scattered read does). The four words are copied one by one and indexed unsigned (no wraparound
    code), not in a loop over a length numba only knows at run time."""
    n = ranks.shape[0]
    size = (n + chunks - 1) // chunks
    for chunk in numba.prange(chunks):
        for splat in range(chunk * size, min(n, (chunk + 1) * size)):
            i = np.uint64(splat)
            at = np.uint64(ranks[i])
            records[at, 0], records[at, 1] = packed[i, 0], packed[i, 1]
            records[at, 2], records[at, 3] = packed[i, 2], packed[i, 3]


def pack_splats(vertices: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """The sorted ``.splat`` records ((n, 32) bytes) of validated PLY vertices, and their count and bounds.

    Every temporary is a slice of one numpy allocation: numpy asks the kernel for transparent huge pages
    on allocations of 4 MiB or more, and every fresh page costs a page fault on first touch, so arrays
    allocated inside numba, or numpy's under 4 MiB (1M splats' int32 ranks), pay one fault per 4 KiB
    instead of one per 2 MiB (docs/benchmarks.md has the cost). The sort's two buffers borrow the
    records' space, which the scatter fills only after the sort. The records returned are a view of that
    allocation, which stays alive as long as they do."""
    names = list(vertices.dtype.names or ())
    n = len(vertices)
    rows = np.ndarray((n, len(names)), "<f4", buffer=vertices)
    columns = tuple(np.uint64(names.index(name)) for name in FIELDS)
    chunks = 4 * numba.get_num_threads()
    work = np.empty(n * (2 * SPLAT_BYTES + 8), np.uint8)
    records = work[:n * SPLAT_BYTES].reshape(n, SPLAT_BYTES)
    packed = work[n * SPLAT_BYTES:2 * n * SPLAT_BYTES].reshape(n, SPLAT_BYTES)
    importance = work[2 * n * SPLAT_BYTES:(2 * SPLAT_BYTES + 4) * n].view(np.float32)
    ranks = work[(2 * SPLAT_BYTES + 4) * n:].view(np.int32)
    ping_pong = records.reshape(-1).view(np.uint64)  # 4n words, of which the sort uses 2n
    low = np.full((chunks, 3), np.inf, np.float32)
    high = np.full((chunks, 3), -np.inf, np.float32)
    _pack(rows, columns, chunks, packed, importance, low, high)
    _radix_ranks(importance.view(np.uint32), ping_pong[:n], ping_pong[n:2 * n], ranks)
    _scatter(packed.view(np.uint64), ranks, chunks, records.view(np.uint64))
    return records, {"splats": n, "bounds": {"min": low.min(axis=0).tolist(), "max": high.max(axis=0).tolist()}}


def ply_to_splat(ply: Path, out: Path, *, max_vertices: int, max_bytes: int) -> dict[str, Any]:
    """Convert a 3DGS PLY file to ``out`` (``.splat``); returns the splat count and the scene's bounds."""
    vertices = open_ply(ply, max_vertices=max_vertices, max_bytes=max_bytes)
    records, stats = pack_splats(vertices)
    with open(out, "wb") as f:
        records.tofile(f)
    return stats
