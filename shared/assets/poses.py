"""Where photos without cameras were taken from, when structure from motion can tell: azimuths for the visual hull.

The visual hull (``shared.assets.relief.visual_hull``) needs each view's azimuth. Uploaded photos
carry none, so COLMAP (pycolmap, CPU) is asked for their poses, on the cut-out views (the subject
on grey: a background seen behind a turning object would pull the poses towards itself). The poses
are then read as a turntable: the axis is the cameras' mean up direction, each azimuth the camera's
angle around it from the first view. With 2 to 8 views of one object COLMAP often cannot start or
register them all; ``NoPoses`` then says why and the caller falls back to a single view.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from shared.assets.views import View

MAX_ELEVATION_DEG = 35.0  # cameras further above or below the horizon than this break the hull's camera model
MIN_POINTS = 20  # a model with fewer 3D points than this is no evidence of where the cameras were


class NoPoses(RuntimeError):
    """Structure from motion could not place every view; the message says why."""


def _write_views(views: list[View], folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for view in views:
        flat = Image.new("RGB", view.image.size, (128, 128, 128))
        flat.paste(view.image, mask=view.image.getchannel("A"))
        flat.save(folder / view.name)
        names.append(view.name)
    return names


def _registered_model(views: list[View], workdir: Path):  # -> pycolmap.Reconstruction
    import pycolmap

    images = workdir / "sfm_views"
    names = _write_views(views, images)
    database = workdir / "sfm.db"
    database.unlink(missing_ok=True)
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads = 1
    pycolmap.extract_features(database, images, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                              extraction_options=extraction, device=pycolmap.Device.cpu)
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = 1
    pycolmap.match_exhaustive(database, matching_options=matching, device=pycolmap.Device.cpu)
    mapping = pycolmap.IncrementalPipelineOptions()
    mapping.num_threads = 1
    mapping.random_seed = 0
    mapping.min_model_size = 2
    output = workdir / "sfm_models"
    output.mkdir(parents=True, exist_ok=True)
    models = pycolmap.incremental_mapping(database, images, output, mapping)
    if not models:
        raise NoPoses(f"structure from motion found no consistent poses among the {len(views)} photos")
    best = max(models.values(), key=lambda model: model.num_reg_images())
    if best.num_reg_images() < len(views):
        raise NoPoses(f"structure from motion placed {best.num_reg_images()} of the {len(views)} photos")
    if best.num_points3D() < MIN_POINTS:
        raise NoPoses(f"structure from motion matched only {best.num_points3D()} points across the photos")
    return best


def _looked_at(centres: np.ndarray, axes: np.ndarray) -> np.ndarray | None:
    """The point nearest every camera's optical axis (least squares): what a turntable series is aimed at.

    None when the axes are too close to parallel to meet. The 3D points' median would be biased towards
    the sides the cameras saw, and so would the azimuths measured around it.
    """
    normal = np.zeros((3, 3))
    right = np.zeros(3)
    for centre, axis in zip(centres, axes, strict=True):
        away = np.eye(3) - np.outer(axis, axis)  # projects onto the plane across the axis
        normal += away
        right += away @ centre
    if np.linalg.cond(normal) > 1e6:
        return None
    return np.linalg.solve(normal, right)


def turntable_azimuths(views: list[View], workdir: Path) -> list[float]:
    """Each view's azimuth (degrees, the first view at 0) from COLMAP's poses, or ``NoPoses``."""
    try:
        model = _registered_model(views, workdir)
    except ImportError:
        raise NoPoses("pycolmap is not installed on this worker") from None
    by_name = {image.name: image for image in model.images.values()}
    centres = np.array([by_name[view.name].projection_center() for view in views])
    rotations = [by_name[view.name].cam_from_world().rotation.matrix() for view in views]
    up = -np.mean([rotation[1] for rotation in rotations], axis=0)  # image rows grow downwards
    up /= np.linalg.norm(up)
    axes = np.array([rotation[2] for rotation in rotations])  # each camera's viewing direction in the world
    target = _looked_at(centres, axes)
    if target is None:
        target = np.median(np.array([point.xyz for point in model.points3D.values()]), axis=0)
    offsets = centres - target
    elevation = np.degrees(np.arcsin(np.clip(offsets @ up / np.linalg.norm(offsets, axis=1), -1, 1)))
    if np.abs(elevation).max() > MAX_ELEVATION_DEG:
        raise NoPoses(f"the photos were taken up to {np.abs(elevation).max():.0f} degrees above or below the "
                      f"subject; the hull needs them within {MAX_ELEVATION_DEG:.0f} of its horizon")
    flat = offsets - np.outer(offsets @ up, up)
    first = flat[0] / np.linalg.norm(flat[0])
    side = np.cross(up, first)  # a right-handed turn about +Y carries +Z (azimuth 0) towards +X (azimuth 90)
    return [math.degrees(math.atan2(float(f @ side), float(f @ first))) % 360.0 for f in flat]
