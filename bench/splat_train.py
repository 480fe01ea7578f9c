"""The splat pipeline on the CPU: a 48-frame 480x360 photo-textured video, end to end, scored on held-out frames.

``python -m bench.splat_train`` prints a table; ``main()`` returns the figures. The scene is the
sample room and box of ``shared.splat.sample_video`` with scikit-image photographs on its twelve
faces, filmed by an orbiting camera and encoded to H.264. Every stage runs as a worker runs it
(real StageContext, SQLite job store, local object store), with the default settings except that
no frame is dropped as blurry (all 48 frames are used). The ``points`` preview is trained and
scored on the same SfM model in the same run. The kernel figures (ms per step, splats per second)
are timed on the trained scene, best of a few runs.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.timing import best_time
from shared.config import Settings
from shared.jobs import Status
from shared.jobs.base import new_job_record
from shared.jobs.sqlite import SQLiteJobStore
from shared.pipeline.context import StageContext
from shared.pipeline.splat import (
    CONVERT_PROGRESS,
    EXTRACT_PROGRESS,
    SFM_PROGRESS,
    TRAIN_PROGRESS,
    convert,
    extract_frames,
    structure_from_motion,
    train_splats,
)
from shared.storage.local import LocalObjectStore

FRAMES = 48
VIDEO_KEY = "videos/uploaded/room.mp4"


class BenchJob:
    """A splat job in real stores under ``root``; each stage gets its own context and scratch folder."""

    def __init__(self, root: Path, settings: Settings, providers: dict[str, str]) -> None:
        self.root, self.settings = root, settings
        self.jobs = SQLiteJobStore(root / "jobs.sqlite3")
        self.objects = LocalObjectStore(root / "objects", "http://bench", "bench-secret")
        record = new_job_record("splat", {"kind": "splat", "video": VIDEO_KEY}, providers)
        self.jobs.create(record)
        self.jobs.transition(record["job_id"], Status.RUNNING)
        self.job_id = record["job_id"]
        self.runs = 0

    def run(self, stage: str, progress: tuple[int, int], work: Callable[[StageContext], Any],
            provider: str | None = None) -> float:
        self.runs += 1
        workdir = self.root / f"work-{self.runs}-{stage}"
        workdir.mkdir()
        job = self.jobs.get(self.job_id)
        if provider:
            job = {**job, "providers": {"train": provider}}
        started = time.perf_counter()
        work(StageContext(job, stage, progress, self.jobs, self.objects, self.settings, workdir))
        return time.perf_counter() - started

    def json(self, name: str) -> dict[str, Any]:
        return json.loads(self.objects.get_bytes(f"jobs/{self.job_id}/{name}"))


def room_video(path: Path) -> Path:
    from shared.splat.sample_video import encode_video, orbit_frames, photo_textures

    return encode_video(orbit_frames(FRAMES, photo_textures()), path, fps=2)


def kernel_figures(job: BenchJob, root: Path) -> dict[str, float]:
    """ms per training step (render, loss, backward) at a quarter and at full size, on the trained scene."""
    from PIL import Image

    from shared.splat import artifacts, cpu_raster, cpu_train
    from shared.splat.evaluate import view_camera
    from shared.splat.gsplat_train import load_views
    from shared.splat.ply import read_gaussians

    ply = root / "trained.ply"
    ply.write_bytes(job.objects.get_bytes(f"jobs/{job.job_id}/{artifacts.POINT_CLOUD}"))
    splats = cpu_train.to_splats(read_gaussians(ply, max_vertices=10**7, max_bytes=1 << 34))
    work = root / "kernel"
    model = work / "sparse"
    model.mkdir(parents=True)
    prefix = f"jobs/{job.job_id}/{artifacts.SPARSE_DIR}/"
    for key in job.objects.list(prefix):
        job.objects.download(key, model / key.removeprefix(prefix))
    view = load_views(model, _frames(job, work), work)[1]
    with Image.open(view.image_path) as image:
        train_view = cpu_train.TrainView.from_image(view.name, view_camera(view), image, 10_000)
    figures: dict[str, float] = {"splats": len(splats)}
    for scale in (4, 1):
        camera = train_view.cameras[scale]
        target = train_view.images[scale].astype("float32") / 255.0

        def step(camera: cpu_raster.Camera = camera, target: Any = target) -> None:
            rendered = cpu_raster.render(splats, camera, 1)
            _, grad = cpu_train.loss_and_gradient(rendered.image, target, 0.2)
            cpu_raster.backward(splats, rendered, grad)

        step()
        figures[f"ms_per_step_1/{scale}"] = 1000 * best_time(step, 5)

        def forward_backward(camera: cpu_raster.Camera = camera, target: Any = target) -> None:
            # The backward's cost does not depend on the gradient's values: the target stands in for one.
            cpu_raster.backward(splats, cpu_raster.render(splats, camera, 1), target)

        figures[f"splats_per_s_1/{scale}"] = len(splats) / best_time(forward_backward, 5)
        figures[f"size_1/{scale}"] = f"{camera.width}x{camera.height}"
    return figures


def _frames(job: BenchJob, work: Path) -> Path:
    from shared.splat import artifacts

    images = work / "images"
    images.mkdir()
    for frame in job.json(artifacts.FRAMES_INDEX)["frames"]:
        job.objects.download(f"jobs/{job.job_id}/{artifacts.FRAMES_DIR}/{frame['name']}", images / frame["name"])
    return images


def main(**overrides: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mmf-bench-splat-") as folder:
        root = Path(folder)
        settings = Settings(data_dir=root, splat_blur_drop_fraction=0.0, **overrides)
        job = BenchJob(root, settings, {"train": settings.default_train_provider})
        started = time.perf_counter()
        video = room_video(root / "room.mp4")
        render_s = time.perf_counter() - started
        job.objects.put_file(VIDEO_KEY, video)
        stages = {"extract": job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames),
                  "sfm": job.run("structure_from_motion", SFM_PROGRESS, structure_from_motion)}
        stages["train"] = job.run("training_splats", TRAIN_PROGRESS, train_splats)
        stages["convert"] = job.run("converting", CONVERT_PROGRESS, convert)
        trained = job.json("training.json")
        sfm = job.json("sfm.json")
        kernels = kernel_figures(job, root)
        points_s = job.run("training_splats", TRAIN_PROGRESS, train_splats, provider="points")
        points = job.json("training.json")
    return {"frames": sfm["frames"], "registered": sfm["registered"], "sfm_points": sfm["points"],
            "video_render_s": render_s, "stages_s": stages, "end_to_end_s": sum(stages.values()),
            "trainer": trained["trainer"], "cpu": trained, "points": points, "points_stage_s": points_s,
            "kernels": kernels, "cores": os.cpu_count(), "load_average": os.getloadavg()}


def report(results: dict[str, Any]) -> str:
    cpu, points, kernels = results["cpu"], results["points"], results["kernels"]
    stages = results["stages_s"]
    lines = [
        f"{results['frames']} frames, {results['registered']} registered, {results['sfm_points']} SfM points; "
        f"{results['cores']} cores, 1-minute load average at the end of the run {results['load_average'][0]:.1f}.",
        "",
        "| trainer | held-out PSNR (dB) | held-out SSIM | train PSNR (dB) | steps | splats | stage time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, facts, seconds in ((cpu["trainer"], cpu, stages["train"]), ("points", points,
                                                                           results["points_stage_s"])):
        evaluation = facts["evaluation"]
        lines.append(f"| {name} | {evaluation['heldout_psnr']:.2f} | {evaluation['heldout_ssim']:.3f} | "
                     f"{evaluation['train_psnr']:.2f} | {facts['iterations']} | {facts['splats']} | {seconds:.1f} |")
    lines += [
        "",
        f"End to end (frames, SfM, training, conversion): **{results['end_to_end_s']:.1f} s** "
        f"(frames {stages['extract']:.1f}, SfM {stages['sfm']:.1f}, training + evaluation {stages['train']:.1f}, "
        f"conversion {stages['convert']:.1f}); goal: 180 s with held-out PSNR of at least 26 dB. "
        f"Training steps at each scale: {json.dumps(cpu['steps_per_scale'])}, stopped by {cpu['stopped_by']}.",
        "",
        f"Kernels on the trained scene ({kernels['splats']} splats), one step = render + L1/D-SSIM + backward:",
        "",
        "| size | ms per step | splats per second, forward + backward |",
        "|---|---|---|",
    ]
    for scale in (4, 1):
        lines.append(f"| {kernels[f'size_1/{scale}']} (1/{scale}) | {kernels[f'ms_per_step_1/{scale}']:.1f} | "
                     f"{kernels[f'splats_per_s_1/{scale}']:,.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(main()))
