"""``make demo``: start the local stack, run real jobs, show progress, say where the results are.

Stops everything it started unless ``KEEP=1`` (then the stack stays up for a person to explore).
"""

from __future__ import annotations

import argparse
import sys
import time

import httpx

from apps.api.auth import docs_are_public
from apps.cli.config import CliSettings
from infra.local import stack
from shared.config import get_settings

DEMO_JOBS = [
    {"kind": "env", "prompt": "misty cyberpunk alley with neon signs at night", "seed": 1},
    {"kind": "env", "prompt": "a dense pine forest at dawn", "seed": 2},
    {"kind": "env", "prompt": "desert ruins under a clear noon sky", "seed": 3},
    {"kind": "text_to_3d", "prompt": "a blue sports car", "seed": 4},
]
DEMO_SPLAT_BUDGET_S = 30
MAIN_ARTIFACT = {"env": "scene.glb", "splat": "scene.splat", "text_to_3d": "model.glb", "image_to_3d": "model.glb"}
TERMINAL = {"completed", "failed", "canceled"}


def bar(progress: int, width: int = 24) -> str:
    filled = int(width * progress / 100)
    return "#" * filled + "-" * (width - filled)


def follow(client: httpx.Client, job_ids: list[str], timeout_s: float) -> dict[str, dict]:
    """Poll every job until all are terminal, printing a line whenever one changes."""
    last: dict[str, tuple] = {}
    jobs: dict[str, dict] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for job_id in job_ids:
            status = client.get(f"/v1/generations/{job_id}/status").json()
            jobs[job_id] = status
            seen = (status["status"], status["stage"], status["progress"])
            if last.get(job_id) != seen:
                last[job_id] = seen
                stage = status["stage"] or "-"
                print(f"  {job_id[:12]}  [{bar(status['progress'])}] {status['progress']:3d}%  "
                      f"{status['status']:<9} {stage}", flush=True)
        if all(job["status"] in TERMINAL for job in jobs.values()):
            return jobs
        time.sleep(0.2)
    raise TimeoutError(f"demo jobs did not finish within {timeout_s:.0f}s")


def upload_orbit_video(client: httpx.Client) -> str:
    """Render the sample orbit video (a room whose walls and box carry scikit-image's photographs) and upload it."""
    import tempfile
    from pathlib import Path

    from shared.splat.sample_video import photo_textures, render_orbit_video

    with tempfile.TemporaryDirectory() as scratch:
        video = render_orbit_video(Path(scratch) / "orbit.mp4", textures=photo_textures()).read_bytes()
    upload = client.post("/v1/uploads", files={"file": ("orbit.mp4", video, "video/mp4")})
    upload.raise_for_status()
    return upload.json()["upload_id"]


def upload_object_photo(client: httpx.Client) -> str:
    """A photo with a cluttered background: a mushroom on grass (an object factory's model rendered onto
    scikit-image's grass photograph, ``shared.assets.sample_photos.object_photo``): the job has to find
    the subject before it can model it, and its outline, cap and stem, is one a single view can give a
    body to."""
    import io

    from shared.assets.sample_photos import object_photo

    buffer = io.BytesIO()
    object_photo("mushroom", "grass", 768, seed=1).image.save(buffer, format="JPEG", quality=92)
    upload = client.post("/v1/uploads", files={"file": ("mushroom_on_grass.jpg", buffer.getvalue(), "image/jpeg")})
    upload.raise_for_status()
    return upload.json()["upload_id"]


def run(keep: bool, timeout_s: float) -> int:
    settings = get_settings()
    base_url = f"http://{settings.api_host}:{settings.api_port}"
    api_key = CliSettings().api_key
    if settings.api_keys and api_key is None:
        print("API_KEYS is set, so the demo needs one of those keys: run it with MMF_API_KEY=<key>.", file=sys.stderr)
        return 2
    headers = {"X-API-Key": api_key.get_secret_value()} if api_key else {}
    docs = f"{base_url}/docs" if docs_are_public(settings) else f"{base_url}/openapi.json with your X-API-Key"
    redis_port = int(settings.redis_url.rsplit(":", 1)[1].split("/")[0])
    print(f"Starting the local stack (data in {settings.data_dir}) ...", flush=True)
    started = time.monotonic()
    stack.up(settings.data_dir, redis_port, settings.api_host, settings.api_port)
    print(f"Stack ready in {time.monotonic() - started:.1f}s: API {base_url}  (OpenAPI: {docs})\n")
    failures = 0
    try:
        with httpx.Client(base_url=base_url, timeout=10, headers=headers) as client:
            job_ids = []
            photo_job = {"kind": "image_to_3d", "images": [upload_object_photo(client)]}
            # The default trainer (cpu) with a shorter budget than a real job's, to keep the demo brisk.
            splat_job = {"kind": "splat", "video": upload_orbit_video(client),
                         "options": {"train": {"time_budget_s": DEMO_SPLAT_BUDGET_S}}}
            for body in [*DEMO_JOBS, photo_job, splat_job]:
                created = client.post("/v1/generations", json=body)
                created.raise_for_status()
                job_ids.append(created.json()["job_id"])
                what = body.get("prompt") or ("a photo of a mushroom on grass (rendered onto the photo in code)"
                                              if body["kind"] == "image_to_3d"
                                              else "a video orbiting a textured room (made in code)")
                print(f"submitted {body['kind']} job {job_ids[-1]}: {what!r}")
            print()
            follow(client, job_ids, timeout_s)
            print()
            for job_id in job_ids:
                job = client.get(f"/v1/generations/{job_id}").json()
                if job["status"] != "completed":
                    failures += 1
                    print(f"job {job_id} {job['status']}: {job['error']}")
                    continue
                signed = client.get(f"/v1/generations/{job_id}/presigned").json()
                main = MAIN_ARTIFACT[job["kind"]]
                shown = [name for name in sorted(job["artifacts"]) if "/" not in name]
                hidden = len(job["artifacts"]) - len(shown)
                cached = ((job.get("details") or {}).get("cache") or {}).get("source_job_id")
                how = (f"served from the result cache (job {cached} made it)" if cached
                       else f"completed in {sum(job['timings'].values()):.2f}s of stage time")
                print(f"{job['kind']} job {job_id} {how}:")
                for name in shown:
                    info = job["artifacts"][name]
                    print(f"  {name:<17} {info['bytes']:>9} B  {settings.resolved_object_store_url}/{info['key']}")
                if hidden:
                    print(f"  (+{hidden} more under frames/, views/, sparse/ …)")
                quality = (job.get("details") or {}).get("quality")
                if isinstance(quality, dict) and quality.get("front_silhouette_iou") is not None:
                    print(f"  subject mask ({quality['mask_method']}) covers {quality['mask_coverage']:.0%} of the "
                          f"photo; the model's front silhouette IoU with it: {quality['front_silhouette_iou']:.3f}")
                if job["kind"] == "splat":
                    details = job["details"]
                    print(f"  held-out PSNR {details['heldout_psnr']} dB, SSIM {details['heldout_ssim']} "
                          f"({details['quality_verdict']}; {details['training_steps']} training steps)")
                print(f"  signed URL of {main} (valid {signed['expires_in']}s):")
                print(f"    {signed['artifacts'][main]['url']}")
                print(f"  in the viewer: {base_url}/viewer/job/?id={job_id}")
    finally:
        if keep:
            print(f"\nKEEP=1: the stack stays up. Open the viewer: {base_url}/viewer/")
            print(f"API: {base_url}  (OpenAPI: {docs}). Stop everything with 'make down'.")
        else:
            stopped = stack.down(settings.data_dir)
            print(f"\nStopped {', '.join(stopped)}.")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.demo", description=__doc__)
    parser.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the jobs")
    args = parser.parse_args(argv)
    return run(args.keep, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
