"""Image quality for splat training and evaluation: PSNR, and SSIM with its gradient.

SSIM uses the usual 11-pixel Gaussian window (sigma 1.5) with zero padding, as 3DGS's training
loss does. The window is separable and symmetric, so the adjoint of the blur is the blur itself:
the gradient costs three more blurs, not a per-pixel loop. Blurs and the per-pixel algebra are
compiled (numba) on one thread: these passes are short, and a parallel region costs more to start
than it saves on small images, worse on a busy machine.
"""

from __future__ import annotations

import math

import numba
import numpy as np

C1 = 0.01**2
C2 = 0.03**2
RADIUS = 5
_coords = np.arange(2 * RADIUS + 1) - float(RADIUS)
WINDOW = np.exp(-(_coords**2) / (2 * 1.5**2))
WINDOW /= WINDOW.sum()


@numba.njit(cache=True, fastmath=True)
def _blur(src, window):
    """Separable blur of a C-contiguous (H, W, C) image with zero padding. Every loop is an axpy along a row
    taken as a 1D view, which LLVM vectorises (indexing the 2D arrays inside the loop, it did not)."""
    h, w, c = src.shape
    n = w * c
    flat = src.reshape(h, n)
    rows = np.zeros((h, n), src.dtype)
    for y in range(h):
        row, source = rows[y], flat[y]
        for k in range(-RADIUS, RADIUS + 1):
            weight = window[k + RADIUS]
            shift = k * c
            for j in range(max(0, -k) * c, min(w, w - k) * c):
                row[j] += weight * source[j + shift]
    out = np.zeros((h, n), src.dtype)
    for y in range(h):
        target = out[y]
        for yy in range(max(0, y - RADIUS), min(h, y + RADIUS + 1)):
            weight = window[yy - y + RADIUS]
            source = rows[yy]
            for j in range(n):
                target[j] += weight * source[j]
    return out.reshape(h, w, c)


@numba.njit(cache=True)
def _products(x, y):
    """x*x, y*y and x*y stacked on the channel axis, so one blur call does all three."""
    h, w, c = x.shape
    out = np.empty((h, w, 3 * c), x.dtype)
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                a, b = x[i, j, ch], y[i, j, ch]
                out[i, j, ch] = a * a
                out[i, j, c + ch] = b * b
                out[i, j, 2 * c + ch] = a * b
    return out


@numba.njit(cache=True)
def _ssim_map(mu_x, mu_y, moments, gradient, scale):
    """Per-pixel SSIM, and (when ``gradient``) its derivatives by mu_x, E[x^2] and E[xy], times ``scale``."""
    h, w, c = mu_x.shape
    s = np.empty_like(mu_x)
    d = np.empty((h, w, 3 * c), mu_x.dtype) if gradient else np.empty((0, 0, 0), mu_x.dtype)
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                mx, my = mu_x[i, j, ch], mu_y[i, j, ch]
                vx = moments[i, j, ch] - mx * mx
                vy = moments[i, j, c + ch] - my * my
                cov = moments[i, j, 2 * c + ch] - mx * my
                a1 = 2 * mx * my + C1
                a2 = 2 * cov + C2
                b1 = mx * mx + my * my + C1
                b2 = vx + vy + C2
                value = a1 * a2 / (b1 * b2)
                s[i, j, ch] = value
                if gradient:
                    d[i, j, ch] = scale * ((2 * my * a2 - 2 * my * a1) / (b1 * b2) - value * 2 * mx / b1
                                           + value * 2 * mx / b2)
                    d[i, j, c + ch] = scale * (-value / b2)
                    d[i, j, 2 * c + ch] = scale * (2 * a1 / (b1 * b2))
    return s, d


@numba.njit(cache=True)
def _combine(blurred, x, y):
    h, w, c = x.shape
    out = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                out[i, j, ch] = (blurred[i, j, ch] + 2 * x[i, j, ch] * blurred[i, j, c + ch]
                                 + y[i, j, ch] * blurred[i, j, 2 * c + ch])
    return out


def psnr(image: np.ndarray, target: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two images in 0..1 (the image clipped to 0..1 first, as it is shown)."""
    mse = float(np.mean((np.clip(image, 0.0, 1.0) - target) ** 2))
    return math.inf if mse == 0 else -10.0 * math.log10(mse)


def ssim(image: np.ndarray, target: np.ndarray, gradient: bool = False) -> tuple[float, np.ndarray | None]:
    """Mean SSIM of two (H, W, C) images in 0..1, and its gradient with respect to ``image`` when asked."""
    x = np.ascontiguousarray(image)
    y = np.ascontiguousarray(target, dtype=x.dtype)
    window = WINDOW.astype(x.dtype)
    mu_x, mu_y = _blur(x, window), _blur(y, window)
    moments = _blur(_products(x, y), window)
    s, d = _ssim_map(mu_x, mu_y, moments, gradient, 1.0 / x.size)
    value = float(s.mean(dtype=np.float64))
    if not gradient:
        return value, None
    return value, _combine(_blur(d, window), x, y)
