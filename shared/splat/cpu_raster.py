"""The 3D Gaussian Splatting rasterizer on the CPU: forward and backward, compiled with numba.

Image formation follows 3DGS (and gsplat): each Gaussian's 3D covariance is projected with the
local affine (EWA) approximation, widened by 0.3 px as a low-pass filter, binned into 16x16
tiles in depth order, and composited front to back (alpha capped at 0.99, contributions under
1/255 skipped, a pixel stops once its transmittance would fall below 1e-4). Colour comes from
spherical harmonics evaluated along the ray from the camera to the Gaussian's centre.

A splat is binned, and visited within a tile, only over the box where its alpha can reach 1/255
(Mahalanobis radius sqrt(2 ln(255 opacity)), the opacity-aware bound gsplat also uses) rather
than 3DGS's 3-sigma square: the image is the same, since the pixels skipped would be skipped by
the 1/255 test anyway, and faint or small splats cost far fewer pixel visits.

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
EXTENT_MARGIN = 0.5  # pixels: rounding must never drop a pixel the exact test would keep
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

    def resized(self, width: int, height: int) -> Camera:
        """The same camera on the image resampled to ``width`` x ``height``."""
        sx, sy = width / self.width, height / self.height
        return Camera(self.rotation, self.translation, self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy,
                      width, height)

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
    extent: np.ndarray  # (N, 2): half-width and half-height in pixels of where alpha >= 1/255; 0 = culled
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


@numba.njit(cache=True, inline="always")
def _camera_centre(rot, trans) -> tuple:
    """The camera's position in the world: -R^T t."""
    return (-(rot[0, 0] * trans[0] + rot[1, 0] * trans[1] + rot[2, 0] * trans[2]),
            -(rot[0, 1] * trans[0] + rot[1, 1] * trans[1] + rot[2, 1] * trans[2]),
            -(rot[0, 2] * trans[0] + rot[1, 2] * trans[1] + rot[2, 2] * trans[2]))


@numba.njit(cache=True, inline="always")
def _to_camera(rot, trans, mx: float, my: float, mz: float) -> tuple:
    """A world point in camera space: R m + t."""
    return (rot[0, 0] * mx + rot[0, 1] * my + rot[0, 2] * mz + trans[0],
            rot[1, 0] * mx + rot[1, 1] * my + rot[1, 2] * mz + trans[1],
            rot[2, 0] * mx + rot[2, 1] * my + rot[2, 2] * mz + trans[2])


@numba.njit(cache=True, inline="always")
def _covariance(r: tuple, s0: float, s1: float, s2: float) -> tuple:
    """M = R diag(s) row by row, then the upper triangle of Sigma = M M^T (c00, c01, c02, c11, c12, c22): one
    flat tuple (nested ones trip numba's parallel array analysis once inlined into a prange loop)."""
    m00, m01, m02 = r[0] * s0, r[1] * s1, r[2] * s2
    m10, m11, m12 = r[3] * s0, r[4] * s1, r[5] * s2
    m20, m21, m22 = r[6] * s0, r[7] * s1, r[8] * s2
    return (m00, m01, m02, m10, m11, m12, m20, m21, m22,
            m00 * m00 + m01 * m01 + m02 * m02, m00 * m10 + m01 * m11 + m02 * m12,
            m00 * m20 + m01 * m21 + m02 * m22, m10 * m10 + m11 * m11 + m12 * m12,
            m10 * m20 + m11 * m21 + m12 * m22, m20 * m20 + m21 * m21 + m22 * m22)


@numba.njit(cache=True, inline="always")
def _projected_covariance(rot, fx: float, fy: float, tz: float, ux: float, uy: float, c00: float, c01: float,
                          c02: float, c11: float, c12: float, c22: float) -> tuple:
    """EWA: T = J W (J the projection's Jacobian at the (clamped) direction ux, uy) and the 2D covariance
    T Sigma T^T with the low-pass added to its diagonal: T row by row, then ca, cb, cc (one flat tuple)."""
    j00, j02, j11, j12 = fx / tz, -fx * ux / tz, fy / tz, -fy * uy / tz
    t00 = j00 * rot[0, 0] + j02 * rot[2, 0]
    t01 = j00 * rot[0, 1] + j02 * rot[2, 1]
    t02 = j00 * rot[0, 2] + j02 * rot[2, 2]
    t10 = j11 * rot[1, 0] + j12 * rot[2, 0]
    t11 = j11 * rot[1, 1] + j12 * rot[2, 1]
    t12 = j11 * rot[1, 2] + j12 * rot[2, 2]
    a0 = t00 * c00 + t01 * c01 + t02 * c02
    a1 = t00 * c01 + t01 * c11 + t02 * c12
    a2 = t00 * c02 + t01 * c12 + t02 * c22
    b0 = t10 * c00 + t11 * c01 + t12 * c02
    b1 = t10 * c01 + t11 * c11 + t12 * c12
    b2 = t10 * c02 + t11 * c12 + t12 * c22
    return (t00, t01, t02, t10, t11, t12, a0 * t00 + a1 * t01 + a2 * t02 + LOW_PASS, a0 * t10 + a1 * t11 + a2 * t12,
            b0 * t10 + b1 * t11 + b2 * t12 + LOW_PASS)


@numba.njit(cache=True, inline="always")
def _unit_quaternion(quats, i: int) -> tuple:
    """Row ``i`` of ``quats`` normalised, and its norm."""
    qw, qx, qy, qz = quats[i, 0], quats[i, 1], quats[i, 2], quats[i, 3]
    qn = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
    return qw / qn, qx / qn, qy / qn, qz / qn, qn


@numba.njit(cache=True, inline="always")
def _view_basis(means, i: int, cam_x: float, cam_y: float, cam_z: float, degree: int) -> np.ndarray:
    """The SH basis along the direction from the camera to splat ``i``."""
    dx, dy, dz = means[i, 0] - cam_x, means[i, 1] - cam_y, means[i, 2] - cam_z
    dn = math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-12
    basis = np.empty(16, dtype=means.dtype)
    _sh_basis(degree, dx / dn, dy / dn, dz / dn, basis)
    return basis


@numba.njit(cache=True, parallel=True)
def _project(means, log_scales, quats, opacity_logits, sh, degree, rot, trans, fx, fy, cx, cy, width, height,
             xy, conic, depth, extent, colour, opacity, clamped):
    n = means.shape[0]
    lim_x = 1.3 * 0.5 * width / fx
    lim_y = 1.3 * 0.5 * height / fy
    cam_x, cam_y, cam_z = _camera_centre(rot, trans)
    coefficients = (degree + 1) * (degree + 1)
    for i in numba.prange(n):
        extent[i, 0] = 0.0
        tx, ty, tz = _to_camera(rot, trans, means[i, 0], means[i, 1], means[i, 2])
        if tz < NEAR:
            continue
        qw, qx, qy, qz, _ = _unit_quaternion(quats, i)
        r = _rotation(qw, qx, qy, qz)
        sigma = _covariance(r, math.exp(log_scales[i, 0]), math.exp(log_scales[i, 1]), math.exp(log_scales[i, 2]))
        ux = tx / tz
        uy = ty / tz
        cl = 0
        if ux < -lim_x or ux > lim_x:
            ux = max(-lim_x, min(lim_x, ux))
            cl |= 1
        if uy < -lim_y or uy > lim_y:
            uy = max(-lim_y, min(lim_y, uy))
            cl |= 2
        projected = _projected_covariance(rot, fx, fy, tz, ux, uy, sigma[9], sigma[10], sigma[11], sigma[12],
                                          sigma[13], sigma[14])
        ca, cb, cc = projected[6], projected[7], projected[8]
        det = ca * cc - cb * cb
        if det <= 0.0:
            continue
        op = 1.0 / (1.0 + math.exp(-opacity_logits[i]))
        if op * 255.0 <= 1.0:
            continue  # under 1/255 everywhere
        # Where alpha reaches 1/255: Mahalanobis distance squared up to 2 ln(255 opacity); its bounding box.
        reach = 2.0 * math.log(255.0 * op)
        ex = math.sqrt(reach * ca) + EXTENT_MARGIN
        ey = math.sqrt(reach * cc) + EXTENT_MARGIN
        px = fx * tx / tz + cx
        py = fy * ty / tz + cy
        if px + ex <= 0 or px - ex >= width or py + ey <= 0 or py - ey >= height:
            continue
        extent[i, 0] = ex
        extent[i, 1] = ey
        xy[i, 0] = px
        xy[i, 1] = py
        conic[i, 0] = cc / det
        conic[i, 1] = -cb / det
        conic[i, 2] = ca / det
        depth[i] = tz
        opacity[i] = op
        basis = _view_basis(means, i, cam_x, cam_y, cam_z, degree)
        for ch in range(3):
            value = 0.5
            for k in range(coefficients):
                value += basis[k] * sh[i, k, ch]
            if value < 0.0:
                value = 0.0
                cl |= 4 << ch
            colour[i, ch] = value
        clamped[i] = cl


@numba.njit(cache=True, inline="always")
def _span(centre: float, half: float, low: int, high: int) -> tuple:
    """Pixels in [low, high) whose centres lie within ``half`` of ``centre``."""
    return max(low, math.ceil(centre - half - 0.5)), min(high, math.floor(centre + half - 0.5) + 1)


@numba.njit(cache=True)
def _tile_span(centre: float, half: float, tiles: int) -> tuple:
    return max(0, int((centre - half) // TILE)), min(tiles, int((centre + half) // TILE) + 1)


@numba.njit(cache=True)
def _bin(order, xy, extent, tiles_x, tiles_y):
    """Tile lists in depth order: ``order`` visits the visible Gaussians nearest first, so appending keeps each
    tile's list sorted (one global sort instead of one per tile)."""
    counts = np.zeros(tiles_x * tiles_y + 1, np.int64)
    for g in order:
        x0, x1 = _tile_span(xy[g, 0], extent[g, 0], tiles_x)
        y0, y1 = _tile_span(xy[g, 1], extent[g, 1], tiles_y)
        for ty in range(y0, y1):
            for tx in range(x0, x1):
                counts[ty * tiles_x + tx + 1] += 1
    offsets = np.cumsum(counts)
    fill = offsets[:-1].copy()
    tile_list = np.empty(offsets[-1], np.int32)
    for g in order:
        x0, x1 = _tile_span(xy[g, 0], extent[g, 0], tiles_x)
        y0, y1 = _tile_span(xy[g, 1], extent[g, 1], tiles_y)
        for ty in range(y0, y1):
            for tx in range(x0, x1):
                t = ty * tiles_x + tx
                tile_list[fill[t]] = g
                fill[t] += 1
    return offsets, tile_list


@numba.njit(cache=True, parallel=True)
def _raster_forward(offsets, tile_list, xy, conic, extent, colour, opacity, background, width, height, tiles_x,
                    image, final_t, last):
    """Front to back per pixel; the loop runs splat by splat over each splat's box within the tile, so a
    pixel is only visited by splats that can reach 1/255 there."""
    tiles = offsets.shape[0] - 1
    for tile in numba.prange(tiles):
        x_start = (tile % tiles_x) * TILE
        y_start = (tile // tiles_x) * TILE
        x_end = min(x_start + TILE, width)
        y_end = min(y_start + TILE, height)
        begin, end = offsets[tile], offsets[tile + 1]
        t = np.ones((TILE, TILE), image.dtype)
        rgb = np.zeros((TILE, TILE, 3), image.dtype)
        done = np.zeros((TILE, TILE), np.bool_)
        count = np.full((TILE, TILE), begin, np.int64)
        remaining = (x_end - x_start) * (y_end - y_start)
        for e in range(begin, end):
            if remaining == 0:
                break
            g = tile_list[e]
            gx, gy = xy[g, 0], xy[g, 1]
            ca, cb, cc = conic[g, 0], conic[g, 1], conic[g, 2]
            op = opacity[g]
            x0, x1 = _span(gx, extent[g, 0], x_start, x_end)
            y0, y1 = _span(gy, extent[g, 1], y_start, y_end)
            for y in range(y0, y1):
                dy = gy - (y + 0.5)
                for x in range(x0, x1):
                    ly, lx = y - y_start, x - x_start
                    if done[ly, lx]:
                        continue
                    dx = gx - (x + 0.5)
                    power = -0.5 * (ca * dx * dx + cc * dy * dy) - cb * dx * dy
                    if power > 0.0:
                        continue
                    alpha = min(ALPHA_MAX, op * math.exp(power))
                    if alpha < ALPHA_MIN:
                        continue
                    tp = t[ly, lx]
                    next_t = tp * (1.0 - alpha)
                    if next_t < T_MIN:
                        done[ly, lx] = True
                        remaining -= 1
                        continue
                    w = alpha * tp
                    rgb[ly, lx, 0] += colour[g, 0] * w
                    rgb[ly, lx, 1] += colour[g, 1] * w
                    rgb[ly, lx, 2] += colour[g, 2] * w
                    t[ly, lx] = next_t
                    count[ly, lx] = e + 1
        for y in range(y_start, y_end):
            for x in range(x_start, x_end):
                ly, lx = y - y_start, x - x_start
                tp = t[ly, lx]
                for ch in range(3):
                    image[y, x, ch] = rgb[ly, lx, ch] + tp * background[ch]
                final_t[y, x] = tp
                last[y, x] = count[ly, lx]


@numba.njit(cache=True, parallel=True)
def _raster_backward(offsets, tile_list, xy, conic, extent, colour, opacity, background, width, height, tiles_x,
                     final_t, last, d_image, entry_grads):
    """The forward's visits in reverse: each pixel recovers its transmittance before every splat by division
    and keeps the colour composited behind it, so nothing per (pixel, splat) is stored."""
    tiles = offsets.shape[0] - 1
    for tile in numba.prange(tiles):
        x_start = (tile % tiles_x) * TILE
        y_start = (tile // tiles_x) * TILE
        x_end = min(x_start + TILE, width)
        y_end = min(y_start + TILE, height)
        begin = offsets[tile]
        t = np.ones((TILE, TILE), d_image.dtype)
        behind = np.zeros((TILE, TILE, 3), d_image.dtype)  # colour composited behind the current splat
        last_alpha = np.zeros((TILE, TILE), d_image.dtype)
        last_colour = np.zeros((TILE, TILE, 3), d_image.dtype)
        d_background = np.zeros((TILE, TILE), d_image.dtype)
        stop = begin
        for y in range(y_start, y_end):
            for x in range(x_start, x_end):
                ly, lx = y - y_start, x - x_start
                t[ly, lx] = final_t[y, x]
                d_background[ly, lx] = -(background[0] * d_image[y, x, 0] + background[1] * d_image[y, x, 1]
                                         + background[2] * d_image[y, x, 2])
                stop = max(stop, last[y, x])
        for e in range(stop - 1, begin - 1, -1):
            g = tile_list[e]
            gx, gy = xy[g, 0], xy[g, 1]
            ca, cb, cc = conic[g, 0], conic[g, 1], conic[g, 2]
            op = opacity[g]
            c0, c1, c2 = colour[g, 0], colour[g, 1], colour[g, 2]
            x0, x1 = _span(gx, extent[g, 0], x_start, x_end)
            y0, y1 = _span(gy, extent[g, 1], y_start, y_end)
            g_x = g_y = g_a = g_b = g_c = g_op = g_r = g_g = g_bl = 0.0
            for y in range(y0, y1):
                dy = gy - (y + 0.5)
                for x in range(x0, x1):
                    if e >= last[y, x]:
                        continue
                    ly, lx = y - y_start, x - x_start
                    dx = gx - (x + 0.5)
                    power = -0.5 * (ca * dx * dx + cc * dy * dy) - cb * dx * dy
                    if power > 0.0:
                        continue
                    gauss = math.exp(power)
                    raw = op * gauss
                    alpha = min(ALPHA_MAX, raw)
                    if alpha < ALPHA_MIN:
                        continue
                    d0, d1, d2 = d_image[y, x, 0], d_image[y, x, 1], d_image[y, x, 2]
                    tp = t[ly, lx] / (1.0 - alpha)
                    t[ly, lx] = tp
                    weight = alpha * tp
                    la = last_alpha[ly, lx]
                    b0 = la * last_colour[ly, lx, 0] + (1.0 - la) * behind[ly, lx, 0]
                    b1 = la * last_colour[ly, lx, 1] + (1.0 - la) * behind[ly, lx, 1]
                    b2 = la * last_colour[ly, lx, 2] + (1.0 - la) * behind[ly, lx, 2]
                    behind[ly, lx, 0], behind[ly, lx, 1], behind[ly, lx, 2] = b0, b1, b2
                    last_colour[ly, lx, 0], last_colour[ly, lx, 1], last_colour[ly, lx, 2] = c0, c1, c2
                    last_alpha[ly, lx] = alpha
                    g_r += weight * d0
                    g_g += weight * d1
                    g_bl += weight * d2
                    if raw > ALPHA_MAX:
                        continue  # the cap holds alpha: no gradient to opacity or shape
                    d_alpha = ((c0 - b0) * d0 + (c1 - b1) * d1 + (c2 - b2) * d2) * tp
                    d_alpha += final_t[y, x] / (1.0 - alpha) * d_background[ly, lx]
                    g_op += gauss * d_alpha
                    gdx = gauss * op * d_alpha
                    g_x += gdx * (-ca * dx - cb * dy)
                    g_y += gdx * (-cc * dy - cb * dx)
                    g_a += -0.5 * gdx * dx * dx
                    g_b += -gdx * dx * dy
                    g_c += -0.5 * gdx * dy * dy
            row = entry_grads[e]
            row[0], row[1], row[2], row[3], row[4] = g_x, g_y, g_a, g_b, g_c
            row[5], row[6], row[7], row[8] = g_op, g_r, g_g, g_bl


@numba.njit(cache=True)
def _reduce(tile_list, entry_grads, n):
    out = np.zeros((n, ENTRY_GRADS), entry_grads.dtype)
    for e in range(tile_list.shape[0]):
        g = tile_list[e]
        for k in range(ENTRY_GRADS):
            out[g, k] += entry_grads[e, k]
    return out


@numba.njit(cache=True, parallel=True)
def _project_backward(means, log_scales, quats, sh, degree, rot, trans, fx, fy, width, height, extent,
                      clamped, opacity, grads, d_means, d_log_scales, d_quats, d_logits, d_sh):
    n = means.shape[0]
    lim_x = 1.3 * 0.5 * width / fx
    lim_y = 1.3 * 0.5 * height / fy
    cam_x, cam_y, cam_z = _camera_centre(rot, trans)
    coefficients = (degree + 1) * (degree + 1)
    for i in numba.prange(n):
        if extent[i, 0] == 0.0:
            continue
        g_x, g_y = grads[i, 0], grads[i, 1]
        g_ca, g_cb, g_cc = grads[i, 2], grads[i, 3], grads[i, 4]
        op = opacity[i]
        d_logits[i] = grads[i, 5] * op * (1.0 - op)
        basis = _view_basis(means, i, cam_x, cam_y, cam_z, degree)
        for ch in range(3):
            if clamped[i] & (4 << ch):
                continue
            for k in range(coefficients):
                d_sh[i, k, ch] = basis[k] * grads[i, 6 + ch]

        tx, ty, tz = _to_camera(rot, trans, means[i, 0], means[i, 1], means[i, 2])
        w, x, y, z, qn = _unit_quaternion(quats, i)
        r = _rotation(w, x, y, z)
        s0, s1, s2 = math.exp(log_scales[i, 0]), math.exp(log_scales[i, 1]), math.exp(log_scales[i, 2])
        m00, m01, m02, m10, m11, m12, m20, m21, m22, c00, c01, c02, c11, c12, c22 = _covariance(r, s0, s1, s2)
        ux, uy = tx / tz, ty / tz
        cl_x = (clamped[i] & 1) != 0
        cl_y = (clamped[i] & 2) != 0
        if cl_x:
            ux = max(-lim_x, min(lim_x, ux))
        if cl_y:
            uy = max(-lim_y, min(lim_y, uy))
        t00, t01, t02, t10, t11, t12, ca, cb, cc = _projected_covariance(rot, fx, fy, tz, ux, uy, c00, c01, c02,
                                                                          c11, c12, c22)
        det = ca * cc - cb * cb
        q00, q01, q11 = cc / det, -cb / det, ca / det
        # d cov2d = -Q dQ Q (the conic Q is the inverse; its off-diagonal counts twice in the Gaussian)
        p00 = q00 * g_ca + q01 * 0.5 * g_cb
        p01 = q00 * 0.5 * g_cb + q01 * g_cc
        p10 = q01 * g_ca + q11 * 0.5 * g_cb
        p11 = q01 * 0.5 * g_cb + q11 * g_cc
        g00 = -(p00 * q00 + p01 * q01)
        g01 = -(p00 * q01 + p01 * q11)
        g11 = -(p10 * q01 + p11 * q11)
        # cov2d = T Sigma T^T: d Sigma = T^T G T, d T = 2 G T Sigma (U = G T)
        u00, u01, u02 = g00 * t00 + g01 * t10, g00 * t01 + g01 * t11, g00 * t02 + g01 * t12
        u10, u11, u12 = g01 * t00 + g11 * t10, g01 * t01 + g11 * t11, g01 * t02 + g11 * t12
        e00 = t00 * u00 + t10 * u10
        e01 = t00 * u01 + t10 * u11
        e02 = t00 * u02 + t10 * u12
        e11 = t01 * u01 + t11 * u11
        e12 = t01 * u02 + t11 * u12
        e22 = t02 * u02 + t12 * u12
        dt00 = 2.0 * (u00 * c00 + u01 * c01 + u02 * c02)
        dt01 = 2.0 * (u00 * c01 + u01 * c11 + u02 * c12)
        dt02 = 2.0 * (u00 * c02 + u01 * c12 + u02 * c22)
        dt10 = 2.0 * (u10 * c00 + u11 * c01 + u12 * c02)
        dt11 = 2.0 * (u10 * c01 + u11 * c11 + u12 * c12)
        dt12 = 2.0 * (u10 * c02 + u11 * c12 + u12 * c22)
        # T = J W: d J = d T W^T (only J's four non-zero entries matter)
        dj00 = dt00 * rot[0, 0] + dt01 * rot[0, 1] + dt02 * rot[0, 2]
        dj02 = dt00 * rot[2, 0] + dt01 * rot[2, 1] + dt02 * rot[2, 2]
        dj11 = dt10 * rot[1, 0] + dt11 * rot[1, 1] + dt12 * rot[1, 2]
        dj12 = dt10 * rot[2, 0] + dt11 * rot[2, 1] + dt12 * rot[2, 2]
        # camera-space position: from the 2D mean and from J
        d_tx = g_x * fx / tz
        d_ty = g_y * fy / tz
        d_tz = -(g_x * fx * tx + g_y * fy * ty) / (tz * tz)
        d_tz += -dj00 * fx / (tz * tz) - dj11 * fy / (tz * tz)
        # J02 = -fx * ux / tz with ux = tx / tz (free) or a constant (clamped)
        if cl_x:
            d_tz += dj02 * fx * ux / (tz * tz)
        else:
            d_tx += -dj02 * fx / (tz * tz)
            d_tz += dj02 * 2.0 * fx * tx / (tz * tz * tz)
        if cl_y:
            d_tz += dj12 * fy * uy / (tz * tz)
        else:
            d_ty += -dj12 * fy / (tz * tz)
            d_tz += dj12 * 2.0 * fy * ty / (tz * tz * tz)
        for a in range(3):
            d_means[i, a] = rot[0, a] * d_tx + rot[1, a] * d_ty + rot[2, a] * d_tz
        # Sigma = M M^T, M = R diag(s): d M = 2 dSigma M, then d R = dM diag(s) and d s = diag(R^T dM)
        dm00 = 2.0 * (e00 * m00 + e01 * m10 + e02 * m20)
        dm01 = 2.0 * (e00 * m01 + e01 * m11 + e02 * m21)
        dm02 = 2.0 * (e00 * m02 + e01 * m12 + e02 * m22)
        dm10 = 2.0 * (e01 * m00 + e11 * m10 + e12 * m20)
        dm11 = 2.0 * (e01 * m01 + e11 * m11 + e12 * m21)
        dm12 = 2.0 * (e01 * m02 + e11 * m12 + e12 * m22)
        dm20 = 2.0 * (e02 * m00 + e12 * m10 + e22 * m20)
        dm21 = 2.0 * (e02 * m01 + e12 * m11 + e22 * m21)
        dm22 = 2.0 * (e02 * m02 + e12 * m12 + e22 * m22)
        d_log_scales[i, 0] = (dm00 * r[0] + dm10 * r[3] + dm20 * r[6]) * s0
        d_log_scales[i, 1] = (dm01 * r[1] + dm11 * r[4] + dm21 * r[7]) * s1
        d_log_scales[i, 2] = (dm02 * r[2] + dm12 * r[5] + dm22 * r[8]) * s2
        d_r = (dm00 * s0, dm01 * s1, dm02 * s2, dm10 * s0, dm11 * s1, dm12 * s2, dm20 * s0, dm21 * s1, dm22 * s2)
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
    extent = np.zeros((n, 2), dtype)
    colour = np.zeros((n, 3), dtype)
    opacity = np.zeros(n, dtype)
    clamped = np.zeros(n, np.int32)
    _project(splats.means, splats.log_scales, splats.quats, splats.opacity_logits, splats.sh, sh_degree, rot, trans,
             float(camera.fx), float(camera.fy), float(camera.cx), float(camera.cy), camera.width, camera.height,
             xy, conic, depth, extent, colour, opacity, clamped)
    visible = np.flatnonzero(extent[:, 0] > 0)
    order = visible[np.argsort(depth[visible], kind="stable")].astype(np.int64)
    tiles_x = (camera.width + TILE - 1) // TILE
    tiles_y = (camera.height + TILE - 1) // TILE
    offsets, tile_list = _bin(order, xy, extent, tiles_x, tiles_y)
    bg = np.zeros(3, dtype) if background is None else np.asarray(background, dtype)
    image = np.empty((camera.height, camera.width, 3), dtype)
    final_t = np.empty((camera.height, camera.width), dtype)
    last = np.empty((camera.height, camera.width), np.int64)
    _raster_forward(offsets, tile_list, xy, conic, extent, colour, opacity, bg, camera.width, camera.height, tiles_x,
                    image, final_t, last)
    return Rendered(image, final_t, last, xy, conic, colour, opacity, extent, clamped, offsets, tile_list,
                    sh_degree, camera, bg)


def backward(splats: Splats, rendered: Rendered, d_image: np.ndarray) -> Gradients:
    """Gradients of a loss with respect to every parameter, given its gradient ``d_image`` on the image."""
    dtype = splats.means.dtype
    camera = rendered.camera
    n = len(splats)
    tiles_x = (camera.width + TILE - 1) // TILE
    entry_grads = np.zeros((len(rendered.tile_list), ENTRY_GRADS), dtype)
    _raster_backward(rendered.tile_offsets, rendered.tile_list, rendered.xy, rendered.conic, rendered.extent,
                     rendered.colour,
                     rendered.opacity, rendered.background, camera.width, camera.height, tiles_x, rendered.final_t,
                     rendered.last, np.ascontiguousarray(d_image, dtype), entry_grads)
    grads = _reduce(rendered.tile_list, entry_grads, n)
    rot, trans = _camera_arrays(camera, dtype)
    out = Gradients(np.zeros((n, 3), dtype), np.zeros((n, 3), dtype), np.zeros((n, 4), dtype), np.zeros(n, dtype),
                    np.zeros_like(splats.sh), grads[:, :2].copy(), rendered.extent[:, 0] > 0)
    _project_backward(splats.means, splats.log_scales, splats.quats, splats.sh, rendered.sh_degree, rot, trans,
                      float(camera.fx), float(camera.fy), camera.width, camera.height, rendered.extent,
                      rendered.clamped, rendered.opacity, grads, out.means, out.log_scales, out.quats,
                      out.opacity_logits, out.sh)
    return out
