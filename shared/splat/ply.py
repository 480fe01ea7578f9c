"""The INRIA 3D Gaussian Splatting PLY: what every trainer writes and ``convert`` reads.

The reader treats the header as untrusted: the vertex count and property list must agree with the
file's size exactly before anything is mapped, so a truncated upload or a hostile header fails with
a message naming the mismatch instead of a memory error or a scene of garbage splats.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.errors import ProviderError

SH_REST_COEFFS = 45  # degree 3: 15 coefficients per colour channel beyond the DC term
PROPERTIES: tuple[str, ...] = (
    "x", "y", "z", "nx", "ny", "nz",
    *(f"f_dc_{i}" for i in range(3)),
    *(f"f_rest_{i}" for i in range(SH_REST_COEFFS)),
    "opacity",
    *(f"scale_{i}" for i in range(3)),
    *(f"rot_{i}" for i in range(4)),
)
REQUIRED: frozenset[str] = frozenset(
    ("x", "y", "z", "opacity", *(f"f_dc_{i}" for i in range(3)), *(f"scale_{i}" for i in range(3)),
     *(f"rot_{i}" for i in range(4)))
)
MAX_HEADER_BYTES = 64 * 1024
_FLOAT_TYPES = ("float", "float32")
_COUNT = re.compile(r"[0-9]{1,19}")


class InvalidPly(ProviderError):
    """The file is not a 3DGS PLY this service can trust (format, properties or size)."""


@dataclass
class Gaussians:
    """Gaussians in the PLY's own parameterisation: logits, log scales, wxyz quaternions, SH."""

    means: np.ndarray  # (N, 3)
    sh_dc: np.ndarray  # (N, 3)
    sh_rest: np.ndarray  # (N, 45): red's 15 coefficients, then green's, then blue's
    opacities: np.ndarray  # (N,) logits
    log_scales: np.ndarray  # (N, 3)
    quats: np.ndarray  # (N, 4) w, x, y, z

    def __len__(self) -> int:
        return len(self.means)


def header_text(vertex_count: int, properties: tuple[str, ...] = PROPERTIES) -> str:
    lines = ["ply", "format binary_little_endian 1.0", f"element vertex {vertex_count}"]
    lines += [f"property float {name}" for name in properties]
    return "\n".join([*lines, "end_header"]) + "\n"


def write_ply(path: Path, gaussians: Gaussians) -> int:
    """Write ``gaussians`` in the INRIA layout (zero normals); returns the file size."""
    n = len(gaussians)
    rows = np.zeros((n, len(PROPERTIES)), "<f4")
    rows[:, 0:3] = gaussians.means
    rows[:, 6:9] = gaussians.sh_dc
    rows[:, 9:54] = gaussians.sh_rest
    rows[:, 54] = gaussians.opacities
    rows[:, 55:58] = gaussians.log_scales
    rows[:, 58:62] = gaussians.quats
    with open(path, "wb") as out:
        out.write(header_text(n).encode("ascii"))
        rows.tofile(out)
    return os.path.getsize(path)


@dataclass(frozen=True)
class PlyHeader:
    vertex_count: int
    properties: tuple[str, ...]
    header_bytes: int

    @property
    def dtype(self) -> np.dtype:
        return np.dtype([(name, "<f4") for name in self.properties])


def parse_header(head: bytes) -> PlyHeader:
    """The vertex element of a binary little-endian, float-only PLY header (``head`` = the file's start)."""
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        raise InvalidPly(f"not a PLY file, or its header is longer than {MAX_HEADER_BYTES} bytes")
    newline = head[end + len(b"end_header"):end + len(b"end_header") + 2]
    terminator = 2 if newline == b"\r\n" else 1 if newline[:1] == b"\n" else 0
    if not terminator:
        raise InvalidPly("the PLY header does not end with 'end_header' and a newline")
    try:
        lines = head[:end].decode("ascii").splitlines()
    except UnicodeDecodeError:
        raise InvalidPly("the PLY header is not ASCII text") from None
    count: int | None = None
    properties: list[str] = []
    for line in lines[1:]:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            if words[1:] != ["binary_little_endian", "1.0"]:
                raise InvalidPly(f"unsupported PLY format {' '.join(words[1:])!r} (need binary_little_endian 1.0)")
        elif words[0] == "element":
            if count is not None or len(words) != 3 or words[1] != "vertex":
                raise InvalidPly(f"unsupported PLY element {' '.join(words[1:])!r}: only one 'vertex' element")
            if not _COUNT.fullmatch(words[2]):
                raise InvalidPly(f"invalid vertex count {words[2]!r} in the PLY header")
            count = int(words[2])
        elif words[0] == "property":
            if count is None or len(words) != 3 or words[1] not in _FLOAT_TYPES:
                raise InvalidPly(f"unsupported PLY property {' '.join(words[1:])!r} (need float vertex properties)")
            if words[2] in properties:
                raise InvalidPly(f"PLY property {words[2]!r} is listed twice")
            properties.append(words[2])
        else:
            raise InvalidPly(f"unexpected PLY header line {line[:80]!r}")
    if count is None:
        raise InvalidPly("the PLY header has no vertex element")
    missing = sorted(REQUIRED - set(properties))
    if missing:
        raise InvalidPly(f"the PLY lacks the 3DGS properties {', '.join(missing)}")
    return PlyHeader(count, tuple(properties), end + len(b"end_header") + terminator)


def open_ply(path: Path, *, max_vertices: int, max_bytes: int) -> np.memmap:
    """Memory-map the vertices of a 3DGS PLY after checking its header against its size and the limits."""
    size = os.path.getsize(path)
    if size > max_bytes:
        raise InvalidPly(f"the PLY is {size} bytes, over the limit of {max_bytes}")
    with open(path, "rb") as f:
        header = parse_header(f.read(MAX_HEADER_BYTES))
    n, stride = header.vertex_count, header.dtype.itemsize
    if n == 0:
        raise InvalidPly("the PLY holds no splats")
    if n > max_vertices:
        raise InvalidPly(f"the PLY header claims {n} vertices, over the limit of {max_vertices}")
    body = size - header.header_bytes
    if n * stride != body:
        raise InvalidPly(f"the PLY header claims {n} vertices of {stride} bytes ({n * stride} bytes), "
                         f"but the file holds {body} bytes after its header")
    return np.memmap(path, dtype=header.dtype, mode="r", offset=header.header_bytes, shape=(n,))



def read_gaussians(path: Path, *, max_vertices: int, max_bytes: int) -> Gaussians:
    """The Gaussians of a checked 3DGS PLY (SH bands it lacks read as zero)."""
    vertices = open_ply(path, max_vertices=max_vertices, max_bytes=max_bytes)
    names = set(vertices.dtype.names or ())

    def columns(*wanted: str) -> np.ndarray:
        return np.stack([np.asarray(vertices[name]) if name in names else np.zeros(len(vertices), np.float32)
                         for name in wanted], axis=1)

    return Gaussians(means=columns("x", "y", "z"), sh_dc=columns("f_dc_0", "f_dc_1", "f_dc_2"),
                     sh_rest=columns(*(f"f_rest_{i}" for i in range(SH_REST_COEFFS))),
                     opacities=np.asarray(vertices["opacity"], np.float32),
                     log_scales=columns("scale_0", "scale_1", "scale_2"),
                     quats=columns("rot_0", "rot_1", "rot_2", "rot_3"))
