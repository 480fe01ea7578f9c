"""Photos with cluttered backgrounds -> models, as an image_to_3d job makes them, against the known subject masks.

``python -m bench.photo_to_3d`` prints a table; ``main()`` returns the figures. Each picture is a
1024 px composite (``shared.assets.sample_photos``) whose true mask is known. The work timed is a
job's CPU work on one picture: decode, segmentation and normalisation, the relief's Poisson body,
post-processing (clean-up, GLB export, thumbnail). Figures: the IoU of the delivered model's front
silhouette (projected back through the view's crop into the photo) with the true mask, and seconds
per picture (best of two runs), the process pinned to one core. The segmentation's thresholds were chosen looking at
pictures 0-19; pictures 100-119 were not looked at while tuning and are reported beside them.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import numpy as np
import trimesh

from bench.timing import best_time
from shared.assets.images import Normalised, decode_image, normalise
from shared.assets.postprocess import finish
from shared.assets.quality import iou
from shared.assets.relief import single_view_mesh
from shared.assets.sample_photos import composite
from shared.assets.views import mask_centre
from shared.config import Settings
from shared.geometry.raster import rasterize
from shared.geometry.render import render_mesh_thumbnail

SIDE = 1024
TUNED = range(20)
HELD_OUT = range(100, 120)


def silhouette_in_photo(mesh: trimesh.Trimesh, crop: list[float], offset: tuple[float, float],
                        shape: tuple[int, int]) -> np.ndarray:
    """Where the model covers the photo, seen from the view's camera, its crop and centring undone."""
    left, top, side = crop
    x, y = mesh.vertices[:, 0] + offset[0], mesh.vertices[:, 1] + offset[1]
    xy = np.stack([left + (x + 1) / 2 * side, top + (1 - y) / 2 * side], axis=1)
    height, width = shape
    triangle, _ = rasterize(xy[mesh.faces], np.ones((len(mesh.faces), 3)), width, height)
    return (triangle >= 0).reshape(height, width)


def photo_to_model(encoded: bytes, name: str, settings: Settings) -> tuple[Normalised, trimesh.Trimesh]:
    """What the job's stages do to one picture, in one process: the normalised view and the delivered mesh."""
    image = decode_image(encoded, settings.asset_max_image_pixels, name)
    normalised = normalise([image], [None], [name], settings.asset_view_size, settings.asset_view_margin)
    mesh = single_view_mesh(normalised.views[0], settings.relief_grid, settings.relief_shading_depth,
                            settings.relief_depth_scale, settings.relief_smoothness,
                            settings.relief_plateau)
    mesh, _ = finish(mesh, settings.asset_face_budget_standard, settings.asset_texture_size)
    render_mesh_thumbnail(mesh.export(file_type="glb"))
    return normalised, mesh


def one_picture(number: int, settings: Settings, repeat: int = 2) -> dict[str, Any]:
    """Figures of one composite; its time is the best of ``repeat`` runs (the machine is shared)."""
    picture = composite(number, SIDE)
    encoded = io.BytesIO()
    picture.image.save(encoded, format="PNG")
    seconds = best_time(lambda: photo_to_model(encoded.getvalue(), picture.name, settings), repeat)
    normalised, mesh = photo_to_model(encoded.getvalue(), picture.name, settings)
    view = normalised.views[0]
    seen = silhouette_in_photo(mesh, normalised.facts[0]["crop"], mask_centre(view), picture.mask.shape)
    return {"number": number, "name": picture.name, "iou": iou(seen, picture.mask), "seconds": seconds,
            "faces": len(mesh.faces), "method": normalised.facts[0]["segmentation"]["method"]}


def main() -> dict[str, Any]:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, whatever the libraries' thread pools
    settings = Settings()
    return {"tuned": [one_picture(n, settings) for n in TUNED],
            "held_out": [one_picture(n, settings) for n in HELD_OUT]}


def summary(rows: list[dict[str, Any]]) -> str:
    ious, seconds = np.array([r["iou"] for r in rows]), np.array([r["seconds"] for r in rows])
    return (f"{len(rows)} pictures: mean IoU {ious.mean():.3f}, lowest {ious.min():.3f}, "
            f"{(ious < 0.75).sum()} below 0.75; seconds per picture: mean {seconds.mean():.2f}, "
            f"max {seconds.max():.2f}")


def report(results: dict[str, Any]) -> str:
    lines = ["| # | picture | front-silhouette IoU | seconds (1 core) | faces |", "|---|---|---|---|---|"]
    for row in results["tuned"] + results["held_out"]:
        lines.append(f"| {row['number']} | {row['name']} | {row['iou']:.3f} | {row['seconds']:.2f} | "
                     f"{row['faces']:,} |")
    return "\n".join([f"Pictures 0-19 (tuned on): {summary(results['tuned'])}.", "",
                      f"Pictures 100-119 (held out): {summary(results['held_out'])}.", "", *lines])


if __name__ == "__main__":
    print(report(main()))
    sys.exit(0)
