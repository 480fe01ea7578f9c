"""Gaussians initialised from a sparse SfM cloud the way 3D Gaussian Splatting starts its training.

Each point becomes an isotropic Gaussian as wide as the mean distance to its three nearest
neighbours (so the cloud covers surfaces without gaps or heavy overlap), coloured by its SH DC
term, unrotated, and faint: opacity starts low so that training, or a viewer, is not dominated by
the first splats drawn.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from shared.errors import ProviderError
from shared.splat.convert import SH_C0
from shared.splat.ply import SH_REST_COEFFS, Gaussians

MIN_POINTS = 4
MIN_DISTANCE_SQUARED = 1e-7  # duplicate points would otherwise get log(0) scales


def inverse_sigmoid(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def from_points(xyz: np.ndarray, rgb: np.ndarray, initial_opacity: float = 0.1) -> Gaussians:
    """Gaussians for the distinct points of ``xyz`` (N, 3) with colours ``rgb`` (N, 3, uint8).

    SIFT gives a keypoint one descriptor per dominant orientation and COLMAP triangulates each:
    identical points would stack their opacity and make each other's neighbour distance zero.
    """
    _, first = np.unique(np.asarray(xyz, np.float32), axis=0, return_index=True)
    keep = np.sort(first)
    xyz, rgb = xyz[keep], rgb[keep]
    n = len(xyz)
    if n < MIN_POINTS:
        raise ProviderError(f"the sparse model has {n} points; at least {MIN_POINTS} are needed to place splats")
    distances, _ = cKDTree(xyz).query(xyz, k=MIN_POINTS)
    mean_squared = np.maximum(np.mean(distances[:, 1:] ** 2, axis=1), MIN_DISTANCE_SQUARED)
    log_scale = np.log(np.sqrt(mean_squared)).astype(np.float32)
    quats = np.zeros((n, 4), np.float32)
    quats[:, 0] = 1.0
    return Gaussians(
        means=np.asarray(xyz, np.float32),
        sh_dc=((np.asarray(rgb, np.float32) / 255.0 - 0.5) / SH_C0).astype(np.float32),
        sh_rest=np.zeros((n, SH_REST_COEFFS), np.float32),
        opacities=np.full(n, inverse_sigmoid(initial_opacity), np.float32),
        log_scales=np.repeat(log_scale[:, None], 3, axis=1),
        quats=quats,
    )
