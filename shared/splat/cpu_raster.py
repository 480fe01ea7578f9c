"""The 3D Gaussian Splatting rasterizer on the CPU: forward and backward, compiled with numba.

Image formation follows 3DGS (and gsplat): each Gaussian's 3D covariance is projected with the
local affine (EWA) approximation, widened by 0.3 px as a low-pass filter, binned into 16x16
tiles in depth order, and composited front to back (alpha capped at 0.99, contributions under
1/255 skipped, a pixel stops once its transmittance would fall below 1e-4). Colour comes from
spherical harmonics evaluated along the ray from the camera to the Gaussian's centre.

The backward pass is the 3DGS paper's: each pixel keeps its final transmittance and its last
contributor, and walks its tile's list back to front, recovering every transmittance by division.
Tiles run in parallel on all cores (``prange``); so that no two threads add into one Gaussian's
gradient, each (tile, Gaussian) pair writes its own row, and the rows are summed per Gaussian
afterwards. Projection and its backward run in parallel over Gaussians.

One simplification against gsplat: the gradient does not flow through the SH view direction into
the means (colour is treated as a function of the SH coefficients only). The view direction moves
little within a step, and it keeps the backward of every SH degree to a dot product.

numba is imported here at module level; only trainers and the splat stages import this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

TILE = 16
LOW_PASS = 0.3
ALPHA_MAX = 0.99
ALPHA_MIN = 1.0 / 255.0
T_MIN = 1e-4
NEAR = 0.01
SH_C0 = 0.28209479177387814
SH_C1 = 0.4886025119029199
SH_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
SH_C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
         -0.4570457994644658, 1.445305721320277, -0.5900435899266435)
ENTRY_GRADS = 9  # per (tile, Gaussian) pair: d mean2d (2), d conic (3), d opacity (1), d colour (3)


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: world-to-camera rotation and translation, focal lengths and principal point in pixels."""

    rotation: np.ndarray  # (3, 3)
    translation: np.ndarray  # (3,)
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def scaled(self, factor: int) -> Camera:
        """The same camera on an image ``factor`` times smaller on each side (rounded down)."""
        return Camera(self.rotation, self.translation, self.fx / factor, self.fy / factor, self.cx / factor,
                      self.cy / factor, self.width // factor, self.height // factor)

    @property
    def center(self) -> np.ndarray:
        return -self.rotation.T @ self.translation


@dataclass
class Splats:
    """Gaussians in the parameterisation the optimiser works on (contiguous arrays of one float dtype)."""

    means: np.ndarray  # (N, 3)
    log_scales: np.ndarray  # (N, 3)
    quats: np.ndarray  # (N, 4) w, x, y, z, not necessarily normalised
    opacity_logits: np.ndarray  # (N,)
    sh: np.ndarray  # (N, 16, 3): coefficient-major, DC first

    def __len__(self) -> int:
        return len(self.means)


@dataclass
class Rendered:
    """A forward pass and everything its backward needs."""

    image: np.ndarray  # (H, W, 3)
    final_t: np.ndarray  # (H, W)
    last: np.ndarray  # (H, W) int32: one past the last contributing entry of the pixel's tile list
    xy: np.ndarray
    conic: np.ndarray
    colour: np.ndarray
    opacity: np.ndarray
    radius: np.ndarray
    clamped: np.ndarray
    tile_offsets: np.ndarray
    tile_list: np.ndarray
    sh_degree: int
    camera: Camera
    background: np.ndarray


@dataclass
class Gradients:
    means: np.ndarray
    log_scales: np.ndarray
    quats: np.ndarray
    opacity_logits: np.ndarray
    sh: np.ndarray
    mean2d: np.ndarray  # (N, 2) in pixels: what densification accumulates
    visible: np.ndarray  # (N,) bool


@numba.njit(cache=True, inline="always")
def _rotation(w: float, x: float, y: float, z: float) -> tuple:
    return (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y))


@numba.njit(cache=True)
def _sh_basis(degree: int, dx: float, dy: float, dz: float, out: np.ndarray) -> None:
    """Real SH basis values up to ``degree`` along the unit direction (dx, dy, dz), in 3DGS's order and signs."""
    out[0] = SH_C0
    if degree < 1:
        return
    out[1] = -SH_C1 * dy
    out[2] = SH_C1 * dz
    out[3] = -SH_C1 * dx
    if degree < 2:
        return
    xx, yy, zz, xy, yz, xz = dx * dx, dy * dy, dz * dz, dx * dy, dy * dz, dx * dz
    out[4] = SH_C2[0] * xy
    out[5] = SH_C2[1] * yz
    out[6] = SH_C2[2] * (2 * zz - xx - yy)
    out[7] = SH_C2[3] * xz
    out[8] = SH_C2[4] * (xx - yy)
    if degree < 3:
        return
    out[9] = SH_C3[0] * dy * (3 * xx - yy)
    out[10] = SH_C3[1] * xy * dz
    out[11] = SH_C3[2] * dy * (4 * zz - xx - yy)
    out[12] = SH_C3[3] * dz * (2 * zz - 3 * xx - 3 * yy)
    out[13] = SH_C3[4] * dx * (4 * zz - xx - yy)
    out[14] = SH_C3[5] * dz * (xx - yy)
    out[15] = SH_C3[6] * dx * (xx - 3 * yy)


@numba.njit(cache=True, parallel=True)
def _project(means, log_scales, quats, opacity_logits, sh, degree, rot, trans, fx, fy, cx, cy, width, height,
             xy, conic, depth, radius, colour, opacity, clamped):
    n = means.shape[0]
    lim_x = 1.3 * 0.5 * width / fx
    lim_y = 1.3 * 0.5 * height / fy
    cam_x = -(rot[0, 0] * trans[0] + rot[1, 0] * trans[1] + rot[2, 0] * trans[2])
    cam_y = -(rot[0, 1] * trans[0] + rot[1, 1] * trans[1] + rot[2, 1] * trans[2])
    cam_z = -(rot[0, 2] * trans[0] + rot[1, 2] * trans[1] + rot[2, 2] * trans[2])
    coefficients = (degree + 1) * (degree + 1)
    for i in numba.prange(n):
        radius[i] = 0
        mx, my, mz = means[i, 0], means[i, 1], means[i, 2]
        tx = rot[0, 0] * mx + rot[0, 1] * my + rot[0, 2] * mz + trans[0]
        ty = rot[1, 0] * mx + rot[1, 1] * my + rot[1, 2] * mz + trans[1]
        tz = rot[2, 0] * mx + rot[2, 1] * my + rot[2, 2] * mz + trans[2]
        if tz < NEAR:
            continue
        qw, qx, qy, qz = quats[i, 0], quats[i, 1], quats[i, 2], quats[i, 3]
        qn = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
        r = _rotation(qw / qn, qx / qn, qy / qn, qz / qn)
        s0, s1, s2 = math.exp(log_scales[i, 0]), math.exp(log_scales[i, 1]), math.exp(log_scales[i, 2])
        # Sigma = M M^T with M = R diag(s)
        m00, m01, m02 = r[0] * s0, r[1] * s1, r[2] * s2
        m10, m11, m12 = r[3] * s0, r[4] * s1, r[5] * s2
        m20, m21, m22 = r[6] * s0, r[7] * s1, r[8] * s2
        c00 = m00 * m00 + m01 * m01 + m02 * m02
        c01 = m00 * m10 + m01 * m11 + m02 * m12
        c02 = m00 * m20 + m01 * m21 + m02 * m22
        c11 = m10 * m10 + m11 * m11 + m12 * m12
        c12 = m10 * m20 + m11 * m21 + m12 * m22
        c22 = m20 * m20 + m21 * m21 + m22 * m22
        ux = tx / tz
        uy = ty / tz
        cl = 0
        if ux < -lim_x or ux > lim_x:
            ux = max(-lim_x, min(lim_x, ux))
            cl |= 1
        if uy < -lim_y or uy > lim_y:
            uy = max(-lim_y, min(lim_y, uy))
            cl |= 2
        j00 = fx / tz
        j02 = -fx * ux / tz
        j11 = fy / tz
        j12 = -fy * uy / tz
        # T = J W (2x3)
        t00 = j00 * rot[0, 0] + j02 * rot[2, 0]
        t01 = j00 * rot[0, 1] + j02 * rot[2, 1]
        t02 = j00 * rot[0, 2] + j02 * rot[2, 2]
        t10 = j11 * rot[1, 0] + j12 * rot[2, 0]
        t11 = j11 * rot[1, 1] + j12 * rot[2, 1]
        t12 = j11 * rot[1, 2] + j12 * rot[2, 2]
        # cov2d = T Sigma T^T
        a0 = t00 * c00 + t01 * c01 + t02 * c02
        a1 = t00 * c01 + t01 * c11 + t02 * c12
        a2 = t00 * c02 + t01 * c12 + t02 * c22
        b0 = t10 * c00 + t11 * c01 + t12 * c02
        b1 = t10 * c01 + t11 * c11 + t12 * c12
        b2 = t10 * c02 + t11 * c12 + t12 * c22
        ca = a0 * t00 + a1 * t01 + a2 * t02 + LOW_PASS
        cb = a0 * t10 + a1 * t11 + a2 * t12
        cc = b0 * t10 + b1 * t11 + b2 * t12 + LOW_PASS
        det = ca * cc - cb * cb
        if det <= 0.0:
            continue
        mid = 0.5 * (ca + cc)
        lam = mid + math.sqrt(max(0.1, mid * mid - det))
        rad = math.ceil(3.0 * math.sqrt(lam))
        px = fx * tx / tz + cx
        py = fy * ty / tz + cy
        if px + rad <= 0 or px - rad >= width or py + rad <= 0 or py - rad >= height:
            continue
        radius[i] = rad
        xy[i, 0] = px
        xy[i, 1] = py
        conic[i, 0] = cc / det
        conic[i, 1] = -cb / det
        conic[i, 2] = ca / det
        depth[i] = tz
        opacity[i] = 1.0 / (1.0 + math.exp(-opacity_logits[i]))
        dx, dy, dz = mx - cam_x, my - cam_y, mz - cam_z
        dn = math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-12
        basis = np.empty(16, dtype=means.dtype)
        _sh_basis(degree, dx / dn, dy / dn, dz / dn, basis)
        for ch in range(3):
            value = 0.5
            for k in range(coefficients):
                value += basis[k] * sh[i, k, ch]
            if value < 0.0:
                value = 0.0
                cl |= 4 << ch
            colour[i, ch] = value
        clamped[i] = cl


@numba.njit(cache=True)
def _bin(order, xy, radius, tiles_x, tiles_y):
    """Tile lists in depth order: ``order`` visits the visible Gaussians nearest first, so appending keeps each
    tile's list sorted (one global sort instead of one per tile)."""
    counts = np.zeros(tiles_x * tiles_y + 1, np.int64)
    for g in order:
        x0 = max(0, int((xy[g, 0] - radius[g]) // TILE))
        x1 = min(tiles_x, int((xy[g, 0] + radius[g]) // TILE) + 1)
        y0 = max(0, int((xy[g, 1] - radius[g]) // TILE))
        y1 = min(tiles_y, int((xy[g, 1] + radius[g]) // TILE) + 1)
        for ty in range(y0, y1):
            for tx in range(x0, x1):
                counts[ty * tiles_x + tx + 1] += 1
    offsets = np.cumsum(counts)
    fill = offsets[:-1].copy()
    tile_list = np.empty(offsets[-1], np.int32)
    for g in order:
        x0 = max(0, int((xy[g, 0] - radius[g]) // TILE))
        x1 = min(tiles_x, int((xy[g, 0] + radius[g]) // TILE) + 1)
        y0 = max(0, int((xy[g, 1] - radius[g]) // TILE))
        y1 = min(tiles_y, int((xy[g, 1] + radius[g]) // TILE) + 1)
        for ty in range(y0, y1):
            for tx in range(x0, x1):
                t = ty * tiles_x + tx
                tile_list[fill[t]] = g
                fill[t] += 1
    return offsets, tile_list


@numba.njit(cache=True, parallel=True)
def _raster_forward(offsets, tile_list, xy, conic, colour, opacity, background, width, height, tiles_x,
                    image, final_t, last):
    tiles = offsets.shape[0] - 1
    for tile in numba.prange(tiles):
        x_start = (tile % tiles_x) * TILE
        y_start = (tile // tiles_x) * TILE
        begin, end = offsets[tile], offsets[tile + 1]
        for y in range(y_start, min(y_start + TILE, height)):
            for x in range(x_start, min(x_start + TILE, width)):
                px, py = x + 0.5, y + 0.5
                t = 1.0
                r = g_ = b = 0.0
                done = begin
                for e in range(begin, end):
                    g = tile_list[e]
                    dx = xy[g, 0] - px
                    dy = xy[g, 1] - py
                    power = -0.5 * (conic[g, 0] * dx * dx + conic[g, 2] * dy * dy) - conic[g, 1] * dx * dy
                    if power > 0.0:
                        continue
                    alpha = min(ALPHA_MAX, opacity[g] * math.exp(power))
                    if alpha < ALPHA_MIN:
                        continue
                    next_t = t * (1.0 - alpha)
                    if next_t < T_MIN:
                        break
                    w = alpha * t
                    r += colour[g, 0] * w
                    g_ += colour[g, 1] * w
                    b += colour[g, 2] * w
                    t = next_t
                    done = e + 1
                image[y, x, 0] = r + t * background[0]
                image[y, x, 1] = g_ + t * background[1]
                image[y, x, 2] = b + t * background[2]
                final_t[y, x] = t
                last[y, x] = done


@numba.njit(cache=True, parallel=True)
def _raster_backward(offsets, tile_list, xy, conic, colour, opacity, background, width, height, tiles_x,
                     final_t, last, d_image, entry_grads):
    tiles = offsets.shape[0] - 1
    for tile in numba.prange(tiles):
        x_start = (tile % tiles_x) * TILE
        y_start = (tile // tiles_x) * TILE
        begin = offsets[tile]
        for y in range(y_start, min(y_start + TILE, height)):
            for x in range(x_start, min(x_start + TILE, width)):
                px, py = x + 0.5, y + 0.5
                t_final = final_t[y, x]
                t = t_final
                d0, d1, d2 = d_image[y, x, 0], d_image[y, x, 1], d_image[y, x, 2]
                d_background = -(background[0] * d0 + background[1] * d1 + background[2] * d2)
                acc0 = acc1 = acc2 = 0.0
                last_alpha = 0.0
                last0 = last1 = last2 = 0.0
                for e in range(last[y, x] - 1, begin - 1, -1):
                    g = tile_list[e]
                    dx = xy[g, 0] - px
                    dy = xy[g, 1] - py
                    ca, cb, cc = conic[g, 0], conic[g, 1], conic[g, 2]
                    power = -0.5 * (ca * dx * dx + cc * dy * dy) - cb * dx * dy
                    if power > 0.0:
                        continue
                    gauss = math.exp(power)
                    raw = opacity[g] * gauss
                    alpha = min(ALPHA_MAX, raw)
                    if alpha < ALPHA_MIN:
                        continue
                    t = t / (1.0 - alpha)
                    weight = alpha * t
                    c0, c1, c2 = colour[g, 0], colour[g, 1], colour[g, 2]
                    acc0 = last_alpha * last0 + (1.0 - last_alpha) * acc0
                    acc1 = last_alpha * last1 + (1.0 - last_alpha) * acc1
                    acc2 = last_alpha * last2 + (1.0 - last_alpha) * acc2
                    last0, last1, last2 = c0, c1, c2
                    last_alpha = alpha
                    d_alpha = ((c0 - acc0) * d0 + (c1 - acc1) * d1 + (c2 - acc2) * d2) * t
                    d_alpha += t_final / (1.0 - alpha) * d_background
                    row = entry_grads[e]
                    row[6] += weight * d0
                    row[7] += weight * d1
                    row[8] += weight * d2
                    if raw > ALPHA_MAX:
                        continue  # the cap holds alpha: no gradient to opacity or shape
                    d_gauss = opacity[g] * d_alpha
                    row[5] += gauss * d_alpha
                    gdx = gauss * d_gauss
                    row[0] += gdx * (-ca * dx - cb * dy)
                    row[1] += gdx * (-cc * dy - cb * dx)
                    row[2] += -0.5 * gdx * dx * dx
                    row[3] += -gdx * dx * dy
                    row[4] += -0.5 * gdx * dy * dy


@numba.njit(cache=True)
def _reduce(tile_list, entry_grads, n):
    out = np.zeros((n, ENTRY_GRADS), entry_grads.dtype)
    for e in range(tile_list.shape[0]):
        g = tile_list[e]
        for k in range(ENTRY_GRADS):
            out[g, k] += entry_grads[e, k]
    return out


@numba.njit(cache=True, parallel=True)
def _project_backward(means, log_scales, quats, sh, degree, rot, trans, fx, fy, width, height, radius,
                      clamped, opacity, grads, d_means, d_log_scales, d_quats, d_logits, d_sh):
    n = means.shape[0]
    lim_x = 1.3 * 0.5 * width / fx
    lim_y = 1.3 * 0.5 * height / fy
    cam_x = -(rot[0, 0] * trans[0] + rot[1, 0] * trans[1] + rot[2, 0] * trans[2])
    cam_y = -(rot[0, 1] * trans[0] + rot[1, 1] * trans[1] + rot[2, 1] * trans[2])
    cam_z = -(rot[0, 2] * trans[0] + rot[1, 2] * trans[1] + rot[2, 2] * trans[2])
    coefficients = (degree + 1) * (degree + 1)
    for i in numba.prange(n):
        if radius[i] == 0:
            continue
        g_x, g_y = grads[i, 0], grads[i, 1]
        g_ca, g_cb, g_cc = grads[i, 2], grads[i, 3], grads[i, 4]
        op = opacity[i]
        d_logits[i] = grads[i, 5] * op * (1.0 - op)
        mx, my, mz = means[i, 0], means[i, 1], means[i, 2]
        dx, dy, dz = mx - cam_x, my - cam_y, mz - cam_z
        dn = math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-12
        basis = np.empty(16, dtype=means.dtype)
        _sh_basis(degree, dx / dn, dy / dn, dz / dn, basis)
        for ch in range(3):
            if clamped[i] & (4 << ch):
                continue
            for k in range(coefficients):
                d_sh[i, k, ch] = basis[k] * grads[i, 6 + ch]

        tx = rot[0, 0] * mx + rot[0, 1] * my + rot[0, 2] * mz + trans[0]
        ty = rot[1, 0] * mx + rot[1, 1] * my + rot[1, 2] * mz + trans[1]
        tz = rot[2, 0] * mx + rot[2, 1] * my + rot[2, 2] * mz + trans[2]
        qw, qx, qy, qz = quats[i, 0], quats[i, 1], quats[i, 2], quats[i, 3]
        qn = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
        w, x, y, z = qw / qn, qx / qn, qy / qn, qz / qn
        r = _rotation(w, x, y, z)
        s0, s1, s2 = math.exp(log_scales[i, 0]), math.exp(log_scales[i, 1]), math.exp(log_scales[i, 2])
        m = np.empty((3, 3), means.dtype)
        for a in range(3):
            m[a, 0] = r[3 * a] * s0
            m[a, 1] = r[3 * a + 1] * s1
            m[a, 2] = r[3 * a + 2] * s2
        sigma = m @ m.T
        ux, uy = tx / tz, ty / tz
        cl_x = (clamped[i] & 1) != 0
        cl_y = (clamped[i] & 2) != 0
        if cl_x:
            ux = max(-lim_x, min(lim_x, ux))
        if cl_y:
            uy = max(-lim_y, min(lim_y, uy))
        j = np.zeros((2, 3), means.dtype)
        j[0, 0] = fx / tz
        j[0, 2] = -fx * ux / tz
        j[1, 1] = fy / tz
        j[1, 2] = -fy * uy / tz
        t = j @ rot
        cov = t @ sigma @ t.T
        ca, cb, cc = cov[0, 0] + LOW_PASS, cov[0, 1], cov[1, 1] + LOW_PASS
        det = ca * cc - cb * cb
        q = np.empty((2, 2), means.dtype)
        q[0, 0], q[0, 1], q[1, 0], q[1, 1] = cc / det, -cb / det, -cb / det, ca / det
        g_q = np.empty((2, 2), means.dtype)
        g_q[0, 0], g_q[0, 1], g_q[1, 0], g_q[1, 1] = g_ca, 0.5 * g_cb, 0.5 * g_cb, g_cc
        g_cov = -(q @ g_q @ q)  # d of a symmetric inverse
        d_sigma = t.T @ g_cov @ t
        d_t = 2.0 * (g_cov @ t @ sigma)
        d_j = d_t @ rot.T
        # camera-space position: from the 2D mean and from J
        d_tx = g_x * fx / tz
        d_ty = g_y * fy / tz
        d_tz = -(g_x * fx * tx + g_y * fy * ty) / (tz * tz)
        d_tz += -d_j[0, 0] * fx / (tz * tz) - d_j[1, 1] * fy / (tz * tz)
        # J02 = -fx * ux / tz with ux = tx / tz (free) or a constant (clamped)
        if cl_x:
            d_tz += d_j[0, 2] * fx * ux / (tz * tz)
        else:
            d_tx += -d_j[0, 2] * fx / (tz * tz)
            d_tz += d_j[0, 2] * 2.0 * fx * tx / (tz * tz * tz)
        if cl_y:
            d_tz += d_j[1, 2] * fy * uy / (tz * tz)
        else:
            d_ty += -d_j[1, 2] * fy / (tz * tz)
            d_tz += d_j[1, 2] * 2.0 * fy * ty / (tz * tz * tz)
        for a in range(3):
            d_means[i, a] = rot[0, a] * d_tx + rot[1, a] * d_ty + rot[2, a] * d_tz
        # Sigma = M M^T, M = R diag(s)
        d_m = 2.0 * (d_sigma @ m)
        d_r = np.empty(9, means.dtype)
        for a in range(3):
            d_r[3 * a] = d_m[a, 0] * s0
            d_r[3 * a + 1] = d_m[a, 1] * s1
            d_r[3 * a + 2] = d_m[a, 2] * s2
        d_log_scales[i, 0] = (d_m[0, 0] * r[0] + d_m[1, 0] * r[3] + d_m[2, 0] * r[6]) * s0
        d_log_scales[i, 1] = (d_m[0, 1] * r[1] + d_m[1, 1] * r[4] + d_m[2, 1] * r[7]) * s1
        d_log_scales[i, 2] = (d_m[0, 2] * r[2] + d_m[1, 2] * r[5] + d_m[2, 2] * r[8]) * s2
        gw = 2 * (-z * d_r[1] + y * d_r[2] + z * d_r[3] - x * d_r[5] - y * d_r[6] + x * d_r[7])
        gx = 2 * (y * d_r[1] + z * d_r[2] + y * d_r[3] - 2 * x * d_r[4] - w * d_r[5] + z * d_r[6] + w * d_r[7]
                  - 2 * x * d_r[8])
        gy = 2 * (-2 * y * d_r[0] + x * d_r[1] + w * d_r[2] + x * d_r[3] + z * d_r[5] - w * d_r[6] + z * d_r[7]
                  - 2 * y * d_r[8])
        gz = 2 * (-2 * z * d_r[0] - w * d_r[1] + x * d_r[2] + w * d_r[3] - 2 * z * d_r[4] + y * d_r[5]
                  + x * d_r[6] + y * d_r[7])
        dot = w * gw + x * gx + y * gy + z * gz
        d_quats[i, 0] = (gw - w * dot) / qn
        d_quats[i, 1] = (gx - x * dot) / qn
        d_quats[i, 2] = (gy - y * dot) / qn
        d_quats[i, 3] = (gz - z * dot) / qn


def _camera_arrays(camera: Camera, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    return (np.ascontiguousarray(camera.rotation, dtype=dtype), np.ascontiguousarray(camera.translation, dtype=dtype))


def render(splats: Splats, camera: Camera, sh_degree: int, background: np.ndarray | None = None) -> Rendered:
    """Rasterize ``splats`` seen by ``camera``: an (H, W, 3) image plus what ``backward`` needs."""
    dtype = splats.means.dtype
    n = len(splats)
    rot, trans = _camera_arrays(camera, dtype)
    xy = np.zeros((n, 2), dtype)
    conic = np.zeros((n, 3), dtype)
    depth = np.zeros(n, dtype)
    radius = np.zeros(n, np.int32)
    colour = np.zeros((n, 3), dtype)
    opacity = np.zeros(n, dtype)
    clamped = np.zeros(n, np.int32)
    _project(splats.means, splats.log_scales, splats.quats, splats.opacity_logits, splats.sh, sh_degree, rot, trans,
             float(camera.fx), float(camera.fy), float(camera.cx), float(camera.cy), camera.width, camera.height,
             xy, conic, depth, radius, colour, opacity, clamped)
    visible = np.flatnonzero(radius > 0)
    order = visible[np.argsort(depth[visible], kind="stable")].astype(np.int64)
    tiles_x = (camera.width + TILE - 1) // TILE
    tiles_y = (camera.height + TILE - 1) // TILE
    offsets, tile_list = _bin(order, xy, radius, tiles_x, tiles_y)
    bg = np.zeros(3, dtype) if background is None else np.asarray(background, dtype)
    image = np.empty((camera.height, camera.width, 3), dtype)
    final_t = np.empty((camera.height, camera.width), dtype)
    last = np.empty((camera.height, camera.width), np.int64)
    _raster_forward(offsets, tile_list, xy, conic, colour, opacity, bg, camera.width, camera.height, tiles_x,
                    image, final_t, last)
    return Rendered(image, final_t, last, xy, conic, colour, opacity, radius, clamped, offsets, tile_list,
                    sh_degree, camera, bg)


def backward(splats: Splats, rendered: Rendered, d_image: np.ndarray) -> Gradients:
    """Gradients of a loss with respect to every parameter, given its gradient ``d_image`` on the image."""
    dtype = splats.means.dtype
    camera = rendered.camera
    n = len(splats)
    tiles_x = (camera.width + TILE - 1) // TILE
    entry_grads = np.zeros((len(rendered.tile_list), ENTRY_GRADS), dtype)
    _raster_backward(rendered.tile_offsets, rendered.tile_list, rendered.xy, rendered.conic, rendered.colour,
                     rendered.opacity, rendered.background, camera.width, camera.height, tiles_x, rendered.final_t,
                     rendered.last, np.ascontiguousarray(d_image, dtype), entry_grads)
    grads = _reduce(rendered.tile_list, entry_grads, n)
    rot, trans = _camera_arrays(camera, dtype)
    out = Gradients(np.zeros((n, 3), dtype), np.zeros((n, 3), dtype), np.zeros((n, 4), dtype), np.zeros(n, dtype),
                    np.zeros_like(splats.sh), grads[:, :2].copy(), rendered.radius > 0)
    _project_backward(splats.means, splats.log_scales, splats.quats, splats.sh, rendered.sh_degree, rot, trans,
                      float(camera.fx), float(camera.fy), camera.width, camera.height, rendered.radius,
                      rendered.clamped, rendered.opacity, grads, out.means, out.log_scales, out.quats,
                      out.opacity_logits, out.sh)
    return out
