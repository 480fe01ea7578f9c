"""Every splat file we write (the PLY, ``.splat``, ``.spz``) read back by a reader we did not write.

PlayCanvas's ``splat-transform`` (npm, installed into tools/splat by ``make install-dev``) converts
each file to CSV, in the PLY's parameterisation (positions, log scales, wxyz quaternions, opacity
logits, SH); the test compares what it decoded with the Gaussians we wrote, within each format's
quantisation.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from shared.splat.convert import SH_C0, ply_to_splat
from shared.splat.ply import Gaussians, InvalidPly, header_text, write_ply
from shared.splat.spz import COLOUR_SCALE, DEFAULT_FRACTIONAL_BITS, ply_to_spz
from tests.test_splat_convert import LIMITS, random_gaussians, sigmoid

SPLAT_TRANSFORM = Path(__file__).resolve().parents[1] / "tools" / "splat" / "node_modules" / ".bin" / "splat-transform"


def read_with_splat_transform(path: Path) -> dict[str, np.ndarray]:
    """The columns splat-transform decodes from ``path`` (via its CSV writer), by PLY property name."""
    assert shutil.which("node"), "node is needed for splat-transform"
    assert SPLAT_TRANSFORM.exists(), "run: npm ci --prefix tools/splat"
    csv = path.with_name(path.name + ".csv")
    result = subprocess.run([str(SPLAT_TRANSFORM), "--quiet", "--overwrite", str(path), str(csv)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names = csv.read_text().split("\n", 1)[0].split(",")
    values = np.loadtxt(csv, delimiter=",", skiprows=1, ndmin=2)
    return {name: values[:, i] for i, name in enumerate(names)}


def stacked(columns: dict[str, np.ndarray], *names: str) -> np.ndarray:
    return np.stack([columns[name] for name in names], axis=1)


def unit_quaternions(quats: np.ndarray) -> np.ndarray:
    """Normalised wxyz quaternions; a zero quaternion stands for the identity."""
    quats = quats.astype(np.float64)
    norms = np.linalg.norm(quats, axis=1, keepdims=True)
    return np.where(norms > 0, quats / np.where(norms > 0, norms, 1), [1.0, 0, 0, 0])


def check_rotations(decoded: dict[str, np.ndarray], gaussians: Gaussians, tolerance: float) -> None:
    """Same rotations up to sign (q and -q are one rotation)."""
    read = unit_quaternions(stacked(decoded, "rot_0", "rot_1", "rot_2", "rot_3"))
    alignment = np.abs(np.sum(read * unit_quaternions(gaussians.quats), axis=1))
    assert alignment.min() >= 1 - tolerance


def test_the_ply_reads_back_bit_for_bit(tmp_path):
    gaussians = random_gaussians(2000)
    write_ply(tmp_path / "scene.ply", gaussians)
    decoded = read_with_splat_transform(tmp_path / "scene.ply")

    assert len(decoded["x"]) == 2000
    for name, ours in (("x", gaussians.means[:, 0]), ("opacity", gaussians.opacities),
                       ("scale_2", gaussians.log_scales[:, 2]), ("rot_1", gaussians.quats[:, 1]),
                       ("f_dc_0", gaussians.sh_dc[:, 0]), ("f_rest_44", gaussians.sh_rest[:, 44])):
        np.testing.assert_array_equal(decoded[name].astype(np.float32), ours, err_msg=name)


def test_the_splat_file_reads_back_within_its_quantisation(tmp_path):
    gaussians = random_gaussians(2000, seed=3)
    write_ply(tmp_path / "scene.ply", gaussians)
    ply_to_splat(tmp_path / "scene.ply", tmp_path / "scene.splat", **LIMITS)
    decoded = read_with_splat_transform(tmp_path / "scene.splat")

    # .splat is ordered by importance: match the splats by their (float32-exact) positions.
    positions = stacked(decoded, "x", "y", "z").astype(np.float32)
    index = {gaussians.means[i].tobytes(): i for i in range(len(gaussians))}
    order = np.array([index[p.tobytes()] for p in positions])
    assert sorted(order.tolist()) == list(range(len(gaussians)))
    ordered = Gaussians(*(getattr(gaussians, f)[order] for f in
                          ("means", "sh_dc", "sh_rest", "opacities", "log_scales", "quats")))

    np.testing.assert_allclose(stacked(decoded, "scale_0", "scale_1", "scale_2"), ordered.log_scales, atol=1e-5)
    colour = np.clip(0.5 + SH_C0 * stacked(decoded, "f_dc_0", "f_dc_1", "f_dc_2"), 0, 1)
    assert np.abs(colour - np.clip(0.5 + SH_C0 * ordered.sh_dc.astype(np.float64), 0, 1)).max() <= 0.5 / 255 + 1e-6
    alpha = sigmoid(decoded["opacity"])
    assert np.abs(alpha - sigmoid(ordered.opacities)).max() <= 0.5 / 255 + 1e-6
    check_rotations(decoded, ordered, tolerance=1e-3)  # 8 bits a component


def check_spz(decoded: dict[str, np.ndarray], gaussians: Gaussians, fractional_bits: int) -> None:
    """The spz quantisation: fixed-point positions, 8-bit alpha, colour and log scale, 10-bit rotations."""
    assert len(decoded["x"]) == len(gaussians)
    step = 2.0 ** -fractional_bits
    assert np.abs(stacked(decoded, "x", "y", "z") - gaussians.means).max() <= step / 2 + 1e-6 * np.abs(
        gaussians.means).max()
    assert np.abs(stacked(decoded, "scale_0", "scale_1", "scale_2") - gaussians.log_scales).max() <= 1 / 32 + 1e-6
    assert np.abs(sigmoid(decoded["opacity"]) - sigmoid(gaussians.opacities)).max() <= 0.5 / 255 + 1e-6

    def spz_colour(dc: np.ndarray) -> np.ndarray:
        return np.clip(0.5 + COLOUR_SCALE * dc, 0, 1)

    colour = spz_colour(stacked(decoded, "f_dc_0", "f_dc_1", "f_dc_2"))
    assert np.abs(colour - spz_colour(gaussians.sh_dc.astype(np.float64))).max() <= 0.5 / 255 + 1e-6
    check_rotations(decoded, gaussians, tolerance=1e-4)


def test_the_spz_file_reads_back_within_its_quantisation(tmp_path):
    gaussians = random_gaussians(3000, seed=5)
    size = write_ply(tmp_path / "scene.ply", gaussians)
    stats = ply_to_spz(tmp_path / "scene.ply", tmp_path / "scene.spz", **LIMITS)
    decoded = read_with_splat_transform(tmp_path / "scene.spz")

    assert stats == {"splats": 3000, "sh_degree": 3, "fractional_bits": DEFAULT_FRACTIONAL_BITS}
    assert (tmp_path / "scene.spz").stat().st_size < size / 5
    check_spz(decoded, gaussians, DEFAULT_FRACTIONAL_BITS)
    # Degree 1 keeps 5 bits (steps of 8/128), higher degrees 4 (16/128), after rounding to 1/128.
    rest = stacked(decoded, *(f"f_rest_{i}" for i in range(45))).reshape(-1, 3, 15)
    error = np.abs(rest - np.clip(gaussians.sh_rest.reshape(-1, 3, 15), -1, 127 / 128))
    assert error[:, :, :3].max() <= 4.5 / 128 + 1e-6
    assert error[:, :, 3:].max() <= 8.5 / 128 + 1e-6


def test_a_wide_scene_gets_coarser_fixed_point_instead_of_wrapping(tmp_path):
    gaussians = random_gaussians(500, seed=7)
    gaussians.means[:, 0] *= 3000.0  # beyond the default +-2048 units
    write_ply(tmp_path / "wide.ply", gaussians)
    stats = ply_to_spz(tmp_path / "wide.ply", tmp_path / "wide.spz", **LIMITS)
    assert stats["fractional_bits"] < DEFAULT_FRACTIONAL_BITS
    check_spz(read_with_splat_transform(tmp_path / "wide.spz"), gaussians, stats["fractional_bits"])


def test_a_ply_without_higher_harmonics_gives_a_degree_0_spz(tmp_path):
    gaussians = random_gaussians(400, seed=9)
    names = ("x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
             "rot_0", "rot_1", "rot_2", "rot_3")
    body = np.concatenate([gaussians.means, gaussians.sh_dc, gaussians.opacities[:, None], gaussians.log_scales,
                           gaussians.quats], axis=1).astype("<f4").tobytes()
    (tmp_path / "dc.ply").write_bytes(header_text(400, names).encode() + body)
    stats = ply_to_spz(tmp_path / "dc.ply", tmp_path / "dc.spz", **LIMITS)
    decoded = read_with_splat_transform(tmp_path / "dc.spz")

    assert stats["sh_degree"] == 0
    assert "f_rest_0" not in decoded
    check_spz(decoded, gaussians, stats["fractional_bits"])


@pytest.mark.parametrize("suffix", [".spz", ".splat"])
def test_a_bad_ply_writes_no_file(tmp_path, suffix):
    (tmp_path / "bad.ply").write_bytes(header_text(10).encode() + b"\0" * 100)
    convert = ply_to_spz if suffix == ".spz" else ply_to_splat
    with pytest.raises(InvalidPly, match="claims 10 vertices"):
        convert(tmp_path / "bad.ply", tmp_path / f"out{suffix}", **LIMITS)
    assert not (tmp_path / f"out{suffix}").exists()
