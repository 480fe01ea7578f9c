"""3DGS PLY -> ``.spz``: Niantic's compressed splat format, about a tenth of the PLY's size.

The layout (version 3, the gzip container every spz reader understands): one gzip stream of a
16-byte header (magic ``NGSP``, version, count, SH degree, fractional bits, flags, reserved) and
the attributes, each for all splats before the next: positions as signed 24-bit fixed point,
alphas (sigmoid opacity, 8 bits), colours (SH DC scaled by 0.15 around 0.5, 8 bits), scales
(``(log scale + 10) * 16``, 8 bits), rotations (the three smallest quaternion components, 10 bits
each, and the index of the largest, in 32 bits) and the SH coefficients beyond the DC term
(coefficient-major, channels innermost; 5 bits kept for degree 1, 4 for higher degrees, as
Niantic's encoder does: the dropped bits are noise that would cost compression).

Coordinates stay the PLY's: PlayCanvas's and Spark's readers take spz positions as they take a
PLY's. One compiled pass (numba, parallel over chunks of rows) quantises every attribute into its
section; deflate runs over blocks in threads (zlib releases the GIL) and the blocks are joined into
one gzip member, which is what strict readers (Niantic's own) require.
"""

from __future__ import annotations

import math
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np

from shared.splat.ply import open_ply

MAGIC = 0x5053474E  # "NGSP", little-endian
VERSION = 3
HEADER = struct.Struct("<IIIBBBB")
COLOUR_SCALE = 0.15
DEFAULT_FRACTIONAL_BITS = 12  # Niantic's default: positions to 1/4096 of a unit within +-2048 units
SH_COEFFS_FOR_DEGREE = {0: 0, 1: 3, 2: 8, 3: 15}
ROTATION_MAGNITUDE = (1 << 9) - 1
BLOCK_BYTES = 1 << 20  # deflate block per thread
# Fastest deflate: on quantised splats it loses a few percent of size against level 6 and is several times faster.
DEFLATE_LEVEL = 1
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no mtime: equal inputs give equal files
FIELDS = ("x", "y", "z", "opacity", "f_dc_0", "f_dc_1", "f_dc_2", "scale_0", "scale_1", "scale_2",
          "rot_1", "rot_2", "rot_3", "rot_0")  # in the order below: spz's quaternion is x, y, z, w


@numba.njit(inline="always")
def _byte(value):
    """Round and clamp to 0..255 (+ 0.5 then truncation rounds non-negative values)."""
    return np.uint8(min(255.0, max(0.0, value + 0.5)))


@numba.njit(cache=True, parallel=True)
def _pack(rows, columns, sh_columns, sh_dim, fractional_bits, chunks, payload):
    """Quantise every splat into its sections of ``payload`` (header space first); returns the largest
    absolute position, so that the caller can check that the fixed point held it."""
    n = rows.shape[0]
    positions, alphas, colours = 16, 16 + 9 * n, 16 + 10 * n
    scales, rotations, harmonics = 16 + 13 * n, 16 + 16 * n, 16 + 20 * n
    position_scale = float(1 << fractional_bits)
    limit = float((1 << 23) - 1)
    largest = np.zeros(chunks)
    size = (n + chunks - 1) // chunks
    for chunk in numba.prange(chunks):
        for i in range(chunk * size, min(n, (chunk + 1) * size)):
            row = rows[i]
            for a in range(3):
                value = np.float64(row[columns[a]])
                largest[chunk] = max(largest[chunk], abs(value))
                fixed = np.int64(round(min(limit, max(-limit, value * position_scale))))
                for b in range(3):
                    payload[positions + 9 * i + 3 * a + b] = np.uint8((fixed >> (8 * b)) & 0xFF)
            payload[alphas + i] = _byte(255.0 / (1.0 + math.exp(-np.float64(row[columns[3]]))))
            for c in range(3):
                payload[colours + 3 * i + c] = _byte((np.float64(row[columns[4 + c]]) * COLOUR_SCALE + 0.5) * 255.0)
                payload[scales + 3 * i + c] = _byte((np.float64(row[columns[7 + c]]) + 10.0) * 16.0)
            norm = 0.0
            big = 0
            for c in range(4):
                value = np.float64(row[columns[10 + c]])
                norm += value * value
                if abs(value) > abs(np.float64(row[columns[10 + big]])):
                    big = c
            packed = np.uint32(big)
            if norm == 0.0:  # a zero quaternion carries no rotation: the identity (w largest, the rest zero)
                packed = np.uint32(3) << np.uint32(30)
            else:
                # The largest component is made positive (q and -q are one rotation) and left implied.
                scale = (1.0 if row[columns[10 + big]] >= 0 else -1.0) / math.sqrt(norm)
                for c in range(4):
                    if c != big:
                        value = np.float64(row[columns[10 + c]]) * scale
                        magnitude = np.uint32(min(float(ROTATION_MAGNITUDE),
                                                  abs(value) * math.sqrt(2.0) * ROTATION_MAGNITUDE + 0.5))
                        packed = (packed << np.uint32(10)) | (np.uint32(value < 0) << np.uint32(9)) | magnitude
            for b in range(4):
                payload[rotations + 4 * i + b] = np.uint8((packed >> np.uint32(8 * b)) & np.uint32(0xFF))
            for k in range(sh_dim):
                half, keep = (4, -8) if k < 3 else (8, -16)  # buckets of 8 (5 bits) for degree 1, else 16
                for c in range(3):
                    value = row[sh_columns[c * sh_dim + k]] * np.float32(128.0) + np.float32(128.5)
                    value = min(255.0, max(0.0, value))
                    payload[harmonics + (i * sh_dim + k) * 3 + c] = np.uint8(min(255, (np.int64(value) + half) & keep))
    return largest.max()


def _gzip(payload: np.ndarray) -> bytes:
    """One gzip member of ``payload``, deflated in blocks on threads: each block but the last ends on a byte
    boundary (a sync flush), so the blocks' raw deflate streams concatenate into one valid stream."""
    view = memoryview(payload.data)
    blocks = range(0, len(view), BLOCK_BYTES)

    def deflate(start: int) -> bytes:
        compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        last = start + BLOCK_BYTES >= len(view)
        return compressor.compress(view[start:start + BLOCK_BYTES]) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    with ThreadPoolExecutor(max(1, min(len(blocks), numba.get_num_threads()))) as pool:
        body = b"".join(pool.map(deflate, blocks))
    return GZIP_HEADER + body + struct.pack("<II", zlib.crc32(view), len(view) & 0xFFFFFFFF)


def encode_spz(vertices: np.ndarray) -> tuple[bytes, dict[str, Any]]:
    """The ``.spz`` file of validated PLY vertices (any SH degree the PLY's ``f_rest_*`` hold), and its facts."""
    names = list(vertices.dtype.names or ())
    n = len(vertices)
    rest = sum(name.startswith("f_rest_") for name in names) // 3
    degree = max(d for d, coeffs in SH_COEFFS_FOR_DEGREE.items() if coeffs <= rest)
    sh_dim = SH_COEFFS_FOR_DEGREE[degree]
    rows = np.ndarray((n, len(names)), "<f4", buffer=vertices)
    columns = np.array([names.index(name) for name in FIELDS], np.int64)
    # The PLY's f_rest is channel-major: channel c's coefficient k is f_rest_{c * rest + k}.
    sh_columns = np.array([names.index(f"f_rest_{c * rest + k}") for c in range(3) for k in range(sh_dim)],
                          np.int64)
    payload = np.empty(16 + n * (20 + 3 * sh_dim), np.uint8)
    chunks = 4 * numba.get_num_threads()
    bits = DEFAULT_FRACTIONAL_BITS
    largest = _pack(rows, columns, sh_columns, sh_dim, bits, chunks, payload)
    if largest * (1 << bits) >= (1 << 23) - 1 and math.isfinite(largest):
        # A scene wider than the default range: fewer fractional bits (coarser steps) until it fits.
        bits = max(0, 22 - math.frexp(largest)[1])
        _pack(rows, columns, sh_columns, sh_dim, bits, chunks, payload)
    payload[:16] = np.frombuffer(HEADER.pack(MAGIC, VERSION, n, degree, bits, 0, 0), np.uint8)
    return _gzip(payload), {"splats": n, "sh_degree": degree, "fractional_bits": bits}


def ply_to_spz(ply: Path, out: Path, *, max_vertices: int, max_bytes: int) -> dict[str, Any]:
    """Convert a 3DGS PLY file to ``out`` (``.spz``); returns the splat count, SH degree and fixed-point bits."""
    data, stats = encode_spz(open_ply(ply, max_vertices=max_vertices, max_bytes=max_bytes))
    out.write_bytes(data)
    return stats
