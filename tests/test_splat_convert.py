"""3DGS PLY -> .splat: the file decodes back to the PLY's splats, and untrustworthy PLY headers are refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shared.splat.convert import SH_C0, _radix_ranks, ply_to_splat
from shared.splat.ply import PROPERTIES, Gaussians, InvalidPly, header_text, open_ply, write_ply

LIMITS = {"max_vertices": 1_000_000, "max_bytes": 1 << 30}
ROOT = Path(__file__).resolve().parents[1]


def decode_splat(data: bytes) -> dict[str, np.ndarray]:
    """The reader a web viewer implements: 32-byte records."""
    records = np.frombuffer(data, np.dtype([("xyz", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4),
                                            ("rot", "u1", 4)]))
    return {"xyz": records["xyz"], "scale": records["scale"], "rgba": records["rgba"].astype(np.float64) / 255,
            "rot": (records["rot"].astype(np.float64) - 128) / 128}


def random_gaussians(n: int, seed: int = 0) -> Gaussians:
    rng = np.random.default_rng(seed)
    quats = rng.normal(size=(n, 4)).astype(np.float32)
    quats[0] = 0.0  # degenerate: must come out as the identity rotation
    return Gaussians(means=rng.normal(size=(n, 3)).astype(np.float32),
                     sh_dc=rng.normal(0, 1.5, size=(n, 3)).astype(np.float32),  # some colours clip
                     sh_rest=rng.normal(0, 0.1, size=(n, 45)).astype(np.float32),
                     opacities=rng.normal(0, 3, size=n).astype(np.float32),
                     log_scales=rng.normal(-4, 1, size=(n, 3)).astype(np.float32),
                     quats=quats)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x.astype(np.float64)))


def check_round_trip(gaussians: Gaussians, data: bytes) -> None:
    n = len(gaussians)
    assert len(data) == 32 * n
    splat = decode_splat(data)
    position_index = {gaussians.means[i].tobytes(): i for i in range(n)}
    order = np.array([position_index[xyz.tobytes()] for xyz in splat["xyz"]])
    assert sorted(order.tolist()) == list(range(n))  # every splat once, positions bit-identical

    np.testing.assert_allclose(splat["scale"], np.exp(gaussians.log_scales[order].astype(np.float64)), rtol=1e-6)
    colour = np.clip(0.5 + SH_C0 * gaussians.sh_dc[order].astype(np.float64), 0, 1)
    assert np.abs(splat["rgba"][:, :3] - colour).max() <= 1 / 255
    assert np.abs(splat["rgba"][:, 3] - sigmoid(gaussians.opacities[order])).max() <= 1 / 255

    quats = gaussians.quats[order].astype(np.float64)
    norms = np.linalg.norm(quats, axis=1, keepdims=True)
    expected = np.where(norms > 0, quats / np.where(norms > 0, norms, 1), [1.0, 0, 0, 0])
    assert np.abs(splat["rot"] - expected).max() <= 1 / 128 + 1e-9  # quantisation (and 1.0 -> 127/128)
    assert np.abs(np.linalg.norm(splat["rot"], axis=1) - 1).max() <= 2 / 128

    importance = np.exp(gaussians.log_scales[order].astype(np.float64).sum(axis=1)) * sigmoid(
        gaussians.opacities[order])
    assert np.all(np.diff(importance) <= 1e-6 * importance[:-1])  # most important first


def test_splat_decodes_back_to_the_ply(tmp_path):
    gaussians = random_gaussians(5000)
    write_ply(tmp_path / "in.ply", gaussians)
    stats = ply_to_splat(tmp_path / "in.ply", tmp_path / "out.splat", **LIMITS)

    check_round_trip(gaussians, (tmp_path / "out.splat").read_bytes())
    assert stats["splats"] == 5000
    assert stats["bounds"] == {"min": gaussians.means.min(axis=0).tolist(), "max": gaussians.means.max(axis=0).tolist()}


def test_any_property_order_and_optional_properties(tmp_path):
    """Exporters differ: no normals, no higher SH bands, properties in another order."""
    gaussians = random_gaussians(300, seed=1)
    names = ["rot_0", "rot_1", "rot_2", "rot_3", "opacity", "scale_0", "scale_1", "scale_2", "x", "y", "z",
             "f_dc_0", "f_dc_1", "f_dc_2"]
    columns = {"x": gaussians.means[:, 0], "y": gaussians.means[:, 1], "z": gaussians.means[:, 2],
               "opacity": gaussians.opacities}
    for i in range(3):
        columns[f"f_dc_{i}"], columns[f"scale_{i}"] = gaussians.sh_dc[:, i], gaussians.log_scales[:, i]
    for i in range(4):
        columns[f"rot_{i}"] = gaussians.quats[:, i]
    body = np.stack([columns[name] for name in names], axis=1).astype("<f4").tobytes()
    (tmp_path / "in.ply").write_bytes(header_text(300, tuple(names)).encode() + body)

    ply_to_splat(tmp_path / "in.ply", tmp_path / "out.splat", **LIMITS)
    check_round_trip(gaussians, (tmp_path / "out.splat").read_bytes())


@pytest.mark.parametrize("importance", [
    np.random.default_rng(2).lognormal(-8, 3, 10_000).astype(np.float32),  # every radix pass used
    np.float32([0.5, 0.25, 0.5, 0.5, 0.25, 1.0, 0.0]),  # ties keep the file's order
    np.full(300, 0.125, np.float32),  # one key: every pass skipped
    (np.float32(1.0) + np.arange(256, dtype=np.float32)[::-1] * np.float32(2**-23)),  # only the lowest digit differs
    np.float32([3.0]),
    np.zeros(0, np.float32),
], ids=["random", "ties", "constant", "one-pass", "one", "none"])
def test_radix_ranks_are_a_stable_descending_sort(importance):
    n = len(importance)
    ranks, ping_pong = np.empty(n, np.int32), np.empty(2 * n, np.uint64)
    _radix_ranks(importance.view(np.uint32), ping_pong[:n], ping_pong[n:], ranks)
    expected = np.empty(n, np.int64)
    expected[np.argsort(-importance.astype(np.float64), kind="stable")] = np.arange(n)
    assert ranks.tolist() == expected.tolist()


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("active", "active")])
def test_openmp_threads_sleep_after_parallel_loops_unless_the_environment_says(given, expected):
    """Importing the package, as anything must before its parallel loops run, sets the default libgomp reads
    when numba starts its threads; an operator's value stays."""
    env = {name: value for name, value in os.environ.items() if name != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    code = ("import os\nfrom shared.splat.convert import pack_splats\n"
            "assert 'libgomp' not in open('/proc/self/maps').read()\nprint(os.environ['OMP_WAIT_POLICY'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == expected


def ply_with_header(path: Path, header: str, vertices: int) -> Path:
    path.write_bytes(header.encode() + np.zeros((vertices, len(PROPERTIES)), "<f4").tobytes())
    return path


@pytest.mark.parametrize(("claimed", "held", "message"), [
    (1000, 900, r"claims 1000 vertices of 248 bytes \(248000 bytes\), but the file holds 223200 bytes"),
    (10, 11, r"claims 10 vertices of 248 bytes \(2480 bytes\), but the file holds 2728 bytes"),
    (10**15, 2, r"claims 1000000000000000 vertices, over the limit of 1000000"),
    (0, 0, "holds no splats"),
])
def test_a_header_that_disagrees_with_the_file_is_refused(tmp_path, claimed, held, message):
    path = ply_with_header(tmp_path / "bad.ply", header_text(claimed), held)
    with pytest.raises(InvalidPly, match=message):
        open_ply(path, **LIMITS)
    with pytest.raises(InvalidPly, match=message):
        ply_to_splat(path, tmp_path / "out.splat", **LIMITS)
    assert not (tmp_path / "out.splat").exists()


@pytest.mark.parametrize(("header", "message"), [
    (header_text(5).replace("vertex 5", "vertex -5"), r"invalid vertex count '-5'"),
    (header_text(5).replace("vertex 5", "vertex " + "9" * 40), "invalid vertex count"),
    (header_text(5).replace("binary_little_endian", "ascii"), r"unsupported PLY format 'ascii 1.0'"),
    (header_text(5).replace("binary_little_endian", "binary_big_endian"), "unsupported PLY format"),
    (header_text(5).replace("property float rot_3\n", ""), "lacks the 3DGS properties rot_3"),
    (header_text(5).replace("property float opacity", "property double opacity"), "unsupported PLY property"),
    (header_text(5).replace("property float nx", "property float x"), "'x' is listed twice"),
    (header_text(5).replace("end_header\n", "element face 3\nproperty list uchar int vertex_indices\nend_header\n"),
     "only one 'vertex' element"),
    (header_text(5).replace("end_header", "end_hdr"), "not a PLY file"),
    ("solid cube\nfacet normal 0 0 1\n", "not a PLY file"),
])
def test_malformed_headers_are_refused_with_the_reason(tmp_path, header, message):
    path = ply_with_header(tmp_path / "bad.ply", header, 5)
    with pytest.raises(InvalidPly, match=message):
        open_ply(path, **LIMITS)


def test_files_over_the_byte_limit_are_refused_unread(tmp_path):
    path = ply_with_header(tmp_path / "big.ply", header_text(100), 100)
    with pytest.raises(InvalidPly, match=r"over the limit of 1000$"):
        open_ply(path, max_vertices=10**6, max_bytes=1000)
