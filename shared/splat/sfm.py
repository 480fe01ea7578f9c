"""Structure from motion with COLMAP through pycolmap, on the CPU.

Video frames come in capture order, so matching is sequential (each frame against its next few)
rather than exhaustive: linear in the frame count instead of quadratic. All frames share one
camera (one lens, one zoom), which COLMAP then calibrates from every view at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pycolmap

from shared.errors import JobCanceled, ProviderError

CAMERA_MODEL = "SIMPLE_RADIAL"
MIN_MODEL_IMAGES = 3
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SfmOptions:
    max_features: int
    overlap: int
    min_registered_fraction: float
    num_threads: int = -1
    seed: int = 0


@dataclass(frozen=True)
class SfmResult:
    model_dir: Path
    images: int
    registered: list[str]
    points: int
    mean_reprojection_error_px: float
    models: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"frames": self.images, "registered": len(self.registered), "registered_frames": self.registered,
                "points": self.points, "mean_reprojection_error_px": round(self.mean_reprojection_error_px, 4),
                "models": self.models}


def _mapping_options(options: SfmOptions, image_count: int) -> pycolmap.IncrementalPipelineOptions:
    mapping = pycolmap.IncrementalPipelineOptions()
    mapping.num_threads = options.num_threads
    mapping.random_seed = options.seed
    mapping.min_model_size = min(mapping.min_model_size, max(MIN_MODEL_IMAGES, image_count // 2))
    return mapping


def reconstruct(image_dir: Path, names: Sequence[str], work_dir: Path, options: SfmOptions,
                progress: Progress) -> SfmResult:
    """Reconstruct cameras and a sparse point cloud; the largest model is written to ``work_dir/sparse/0``.

    ``progress`` may raise ``JobCanceled``: COLMAP is then stopped through its cancellation token at
    the next registered image and the cancellation re-raised here, never thrown through C++ frames.
    """
    database = work_dir / "database.db"
    database.unlink(missing_ok=True)
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.sift.max_num_features = options.max_features
    extraction.num_threads = options.num_threads
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = CAMERA_MODEL
    pycolmap.extract_features(database, image_dir, image_names=list(names), camera_mode=pycolmap.CameraMode.SINGLE,
                              reader_options=reader, extraction_options=extraction, device=pycolmap.Device.cpu)
    progress(0.3, f"SIFT features extracted from {len(names)} frames")

    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = options.num_threads
    pairing = pycolmap.SequentialPairingOptions(overlap=options.overlap)
    pycolmap.match_sequential(database, matching_options=matching, pairing_options=pairing,
                              device=pycolmap.Device.cpu)
    progress(0.5, "frames matched")

    token = pycolmap.CancellationToken()
    canceled: list[JobCanceled] = []
    registered = 0

    def next_image() -> None:
        nonlocal registered
        registered += 1
        try:
            progress(0.5 + 0.45 * min(1.0, registered / len(names)), f"registered {registered} of {len(names)} frames")
        except JobCanceled as error:
            canceled.append(error)
            token.cancel()

    output = work_dir / "mapping"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    try:
        models = pycolmap.incremental_mapping(database, image_dir, output, _mapping_options(options, len(names)),
                                              next_image_callback=next_image, cancellation_token=token)
    except InterruptedError:  # how pycolmap reports a canceled token
        if not canceled:
            raise
    if canceled:
        raise canceled[0]
    if not models:
        raise ProviderError(f"structure from motion found no consistent camera poses among {len(names)} frames "
                            "(too little texture or overlap, or the camera did not move)")
    best = max(models.values(), key=lambda model: model.num_reg_images())
    names_registered = sorted(best.image(image_id).name for image_id in best.reg_image_ids())
    fraction = len(names_registered) / len(names)
    if fraction < options.min_registered_fraction:
        raise ProviderError(f"structure from motion registered {len(names_registered)} of {len(names)} frames "
                            f"({fraction:.0%}), below the required {options.min_registered_fraction:.0%}: the video "
                            "needs more overlap between frames, more texture, or less motion blur")
    model_dir = work_dir / "sparse" / "0"
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    best.write_binary(str(model_dir))
    return SfmResult(model_dir, len(names), names_registered, best.num_points3D(),
                     float(best.compute_mean_reprojection_error()), len(models))


def load_points(model_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The sparse cloud of a COLMAP model: positions (N, 3) float64 and colours (N, 3) uint8."""
    model = pycolmap.Reconstruction(str(model_dir))
    points = model.points3D
    xyz = np.array([point.xyz for point in points.values()], dtype=np.float64).reshape(-1, 3)
    rgb = np.array([point.color for point in points.values()], dtype=np.uint8).reshape(-1, 3)
    return xyz, rgb
