"""TripoSR (Stability AI and VAST's single-image reconstructor, the ``tsr`` package): loaded once per worker.

``tsr`` is not on PyPI and no image of ours installs it: a GPU host that wants TripoSR puts the
``tsr`` folder of VAST-AI-Research/TripoSR (the API below is that of commit 55f4995) and its
requirements (omegaconf, einops, torchmcubes) on the worker's path. The checkpoint folder holds
``config.yaml`` and ``model.ckpt`` (``runtime.TRIPOSR_FILES``); it comes from
``runtime.model_folder``, so TripoSR's own ``from_pretrained`` never reaches the hub.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from PIL import Image

from shared.envgen.image_mesh import HeroMesh, cut_out, working_picture
from shared.geometry.render import srgb_to_linear

TRIPOSR_RESOLUTION = 160  # marching-cubes grid: about 50k faces, a few hundred kB of GLB per hero
TRIPOSR_CHUNK = 8192
TRIPOSR_FOREGROUND = 0.85  # TripoSR was trained on objects filling this share of a grey picture


@lru_cache(maxsize=1)
def load_triposr(model_folder: str, device: str) -> Any:
    """TripoSR from a local folder holding config.yaml and model.ckpt."""
    from tsr.system import TSR

    model = TSR.from_pretrained(model_folder, config_name="config.yaml", weight_name="model.ckpt")
    model.renderer.set_chunk_size(TRIPOSR_CHUNK)
    model.to(device)
    return model


def triposr_mesh(image: Image.Image, model_folder: str, device: str) -> tuple[HeroMesh, str]:
    """TripoSR's reconstruction of the object, its background replaced by our own cut-out (no rembg)."""
    import torch
    from tsr.utils import resize_foreground

    rgb, _ = working_picture(image)
    cut = cut_out(rgb)
    mask = np.ones(rgb.shape[:2], dtype=bool) if cut is None else cut[0]
    alpha = Image.fromarray(mask.astype(np.uint8) * 255).resize(image.size, Image.Resampling.BILINEAR)
    rgba = image.convert("RGB")
    rgba.putalpha(alpha)
    framed = np.asarray(resize_foreground(rgba, TRIPOSR_FOREGROUND), dtype=np.float32) / 255.0
    grey = framed[:, :, :3] * framed[:, :, 3:4] + (1.0 - framed[:, :, 3:4]) * 0.5
    model = load_triposr(model_folder, device)
    with torch.no_grad():
        codes = model([Image.fromarray((grey * 255.0).astype(np.uint8))], device=device)
    mesh = model.extract_mesh(codes, True, resolution=TRIPOSR_RESOLUTION)[0]
    # TripoSR's frame is Z-up; these are the turns its own demo applies for Y-up viewers.
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    srgb = np.asarray(mesh.visual.vertex_colors, dtype=float)[:, :3] / 255.0
    colors = np.concatenate([np.round(srgb_to_linear(srgb) * 255), np.full((len(srgb), 1), 255)], axis=1)
    hero = HeroMesh(np.asarray(mesh.vertices, dtype=float), np.asarray(mesh.faces), colors.astype(np.uint8))
    return hero, f"TripoSR from {Path(model_folder).name} ({len(hero.positions)} vertices)"
