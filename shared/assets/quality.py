"""The quality report of an image or text to 3D job: does the model look, from the front, like the subject found?

A client cannot see the segmentation or the reconstruction go wrong from a mesh's face count, so
the manifest says how much of the picture the mask took, how well the model's silhouette seen from
the front view's camera matches that mask, and whether the model is closed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh

from shared.assets.views import View, camera_axes, project
from shared.geometry.raster import rasterize


def silhouette(mesh: trimesh.Trimesh, azimuth_deg: float, size: int) -> np.ndarray:
    """Where the mesh covers a ``size``-pixel view seen from ``azimuth_deg`` (the views' orthographic camera)."""
    cols, rows = project(np.asarray(mesh.vertices, dtype=float), azimuth_deg, size)
    corners = np.stack([cols, rows], axis=1)[np.asarray(mesh.faces)]
    triangle, _ = rasterize(corners, np.ones(corners.shape[:2]), size, size)
    return (triangle >= 0).reshape(size, size)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (0 when both are empty)."""
    union = int((a | b).sum())
    return float((a & b).sum()) / union if union else 0.0


def _extents_facing(mesh: trimesh.Trimesh, azimuth_deg: float) -> np.ndarray:
    """The model's width, height and depth as seen by the camera at ``azimuth_deg`` (the front view's)."""
    right, forward = camera_axes(azimuth_deg)
    axes = np.stack([right, np.array([0.0, 1.0, 0.0]), forward])
    return np.ptp(np.asarray(mesh.vertices) @ axes.T, axis=0)


def quality_report(mesh: trimesh.Trimesh, front: View, entry: dict[str, Any], watertight: bool,
                   offset: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
    """The manifest's ``quality`` block: mask coverage, front-view silhouette IoU, watertightness, face count.

    ``front`` is the view the model was built facing, ``entry`` its line in ``views.json`` and ``offset``
    the (x, y) the reconstructor moved the model by to centre it, undone here to lay it over the mask.
    """
    azimuth = front.azimuth_deg or 0.0
    shift = np.array([offset[0], offset[1], 0.0])
    placed = trimesh.Trimesh(np.asarray(mesh.vertices) + shift, mesh.faces, process=False)
    seen = silhouette(placed, azimuth, front.image.width)
    extents = _extents_facing(placed, azimuth)
    return {
        "front_view": front.name,
        "mask_coverage": (entry.get("segmentation") or {}).get("coverage"),
        "mask_method": (entry.get("segmentation") or {}).get("method"),
        "front_silhouette_iou": round(iou(seen, front.mask()), 4),
        "watertight": watertight,
        "faces": len(mesh.faces),
        # the depth beside the outline's larger side, seen from the front: 1 for a sphere, less for a relief
        "depth_to_width": round(float(extents[2] / max(extents[0], extents[1], 1e-9)), 3),
    }
