"""Vectorised z-buffered triangle rasterisation in numpy: near-plane clipping, spans, depth test.

Triangles are expanded to (triangle, row) spans and the spans to exactly the pixels they cover, so
the work is proportional to rows plus covered pixels, whatever the triangle sizes; no Python loop
runs per triangle or per pixel.
"""

from __future__ import annotations

import numpy as np

NEAR = 0.05


def clip_near(corners: np.ndarray, attributes: np.ndarray, near: float = NEAR) -> tuple[np.ndarray, ...]:
    """Clip triangles (T,3,3 camera space, z forward) against z >= near, carrying per-corner attributes.

    Returns the clipped corners, attributes and, per output triangle, the index of its source.
    A triangle with one corner in front becomes one triangle, with two corners in front two.
    """
    inside = corners[:, :, 2] >= near
    count = inside.sum(axis=1)
    source = np.arange(len(corners))
    keep_c, keep_a, keep_s = [corners[count == 3]], [attributes[count == 3]], [source[count == 3]]

    def cut(c: np.ndarray, a: np.ndarray, i: int, o: int) -> tuple[np.ndarray, np.ndarray]:
        """Point where edge (inside i -> outside o) meets the near plane."""
        t = (near - c[:, i, 2]) / (c[:, o, 2] - c[:, i, 2])
        return (c[:, i] + t[:, None] * (c[:, o] - c[:, i]), a[:, i] + t[:, None] * (a[:, o] - a[:, i]))

    for n_in in (1, 2):
        sel = np.flatnonzero(count == n_in)
        if len(sel) == 0:
            continue
        # rotate corners (keeping the winding) so the odd one out comes first
        first = np.argmax(inside[sel] if n_in == 1 else ~inside[sel], axis=1)
        order = (first[:, None] + np.arange(3)) % 3
        c = np.take_along_axis(corners[sel], order[:, :, None], axis=1)
        a = np.take_along_axis(attributes[sel], order[:, :, None], axis=1)
        if n_in == 1:  # corner 0 in front: keep it and the two cuts
            p1, q1 = cut(c, a, 0, 1)
            p2, q2 = cut(c, a, 0, 2)
            keep_c.append(np.stack([c[:, 0], p1, p2], axis=1))
            keep_a.append(np.stack([a[:, 0], q1, q2], axis=1))
            keep_s.append(source[sel])
        else:  # corner 0 behind: quad (1, 2, cut 2->0, cut 1->0) as two triangles
            p1, q1 = cut(c, a, 1, 0)
            p2, q2 = cut(c, a, 2, 0)
            keep_c += [np.stack([c[:, 1], c[:, 2], p2], axis=1), np.stack([c[:, 1], p2, p1], axis=1)]
            keep_a += [np.stack([a[:, 1], a[:, 2], q2], axis=1), np.stack([a[:, 1], q2, q1], axis=1)]
            keep_s += [source[sel], source[sel]]
    return np.concatenate(keep_c), np.concatenate(keep_a), np.concatenate(keep_s)


def _edge_coefficients(xy: np.ndarray, area: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric weights along the row y=py as w_i(px) = alpha_i * px + beta_i, shapes (N,3)."""
    x0, y0, x1, y1, x2, y2 = (xy[:, k // 2, k % 2] for k in range(6))
    alpha = np.stack([y1 - y2, y2 - y0, y0 - y1], axis=1) / area[:, None]
    beta = np.stack([x1 * (y2 - py) - x2 * (y1 - py), x2 * (y0 - py) - x0 * (y2 - py),
                     x0 * (y1 - py) - x1 * (y0 - py)], axis=1) / area[:, None]
    return alpha, beta


def rasterize(xy: np.ndarray, inv_z: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Nearest triangle per pixel and its perspective-correct barycentric weights.

    ``xy`` is (T,3,2) in pixels (origin top-left, pixel centres at +0.5), ``inv_z`` (T,3) is 1/depth.
    Returns ``triangle`` (H*W,) with -1 where nothing is drawn, and ``weights`` (H*W,3).
    """
    triangle = np.full(width * height, -1, dtype=np.int64)
    weights = np.zeros((width * height, 3))
    area = ((xy[:, 1, 0] - xy[:, 0, 0]) * (xy[:, 2, 1] - xy[:, 0, 1])
            - (xy[:, 2, 0] - xy[:, 0, 0]) * (xy[:, 1, 1] - xy[:, 0, 1]))
    y_first = np.maximum(np.ceil(xy[:, :, 1].min(axis=1) - 0.5), 0)
    y_last = np.minimum(np.floor(xy[:, :, 1].max(axis=1) - 0.5), height - 1)
    x_first = np.maximum(np.ceil(xy[:, :, 0].min(axis=1) - 0.5), 0)
    x_last = np.minimum(np.floor(xy[:, :, 0].max(axis=1) - 0.5), width - 1)
    live = np.flatnonzero((np.abs(area) > 1e-9) & (y_first <= y_last) & (x_first <= x_last))
    if len(live) == 0:
        return triangle, weights

    # one entry per (triangle, row)
    rows = (y_last[live] - y_first[live] + 1).astype(np.int64)
    span_tri = np.repeat(live, rows)
    starts = np.cumsum(rows) - rows
    span_y = y_first[span_tri] + (np.arange(rows.sum()) - np.repeat(starts, rows))
    alpha, beta = _edge_coefficients(xy[span_tri], area[span_tri], span_y + 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = -beta / alpha
    low = np.where(alpha > 0, bound, -np.inf).max(axis=1)
    high = np.where(alpha < 0, bound, np.inf).min(axis=1)
    empty = ((alpha == 0) & (beta < 0)).any(axis=1)
    px_first = np.maximum(np.ceil(low - 0.5 - 1e-9), x_first[span_tri])
    px_last = np.minimum(np.floor(high - 0.5 + 1e-9), x_last[span_tri])
    counts = np.where(empty, 0, np.maximum(px_last - px_first + 1, 0)).astype(np.int64)

    # depth (1/z) is affine along a row: iz(px) = slope * (px + 0.5) + offset
    tri_iz = inv_z[span_tri]
    slope, offset = (alpha * tri_iz).sum(axis=1), (beta * tri_iz).sum(axis=1)
    frag_span = np.repeat(np.arange(len(counts)), counts)
    frag_x = px_first[frag_span] + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    frag_iz = slope[frag_span] * (frag_x + 0.5) + offset[frag_span]
    frag_pixel = (span_y[frag_span] * width + frag_x).astype(np.int64)

    depth = np.full(width * height, -np.inf)
    np.maximum.at(depth, frag_pixel, frag_iz)
    won = frag_iz >= depth[frag_pixel]
    triangle[frag_pixel[won]] = span_tri[frag_span[won]]

    drawn = np.flatnonzero(triangle >= 0)
    alpha, beta = _edge_coefficients(xy[triangle[drawn]], area[triangle[drawn]], drawn // width + 0.5)
    screen = alpha * (drawn % width + 0.5)[:, None] + beta
    perspective = np.clip(screen, 0, None) * inv_z[triangle[drawn]]
    weights[drawn] = perspective / np.maximum(perspective.sum(axis=1, keepdims=True), 1e-30)
    return triangle, weights
