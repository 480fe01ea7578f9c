"""1,000 S3 keys through the batch helper (one broker message) against 1,000 single submissions, same run.

Submission time only (until the helper returns: the message is in Redis), not processing. Singles are
measured twice: ``submit_s3_image_for_3d_generation`` x 1,000 (one message each) and 1,000
``POST /v1/generations`` (``image_to_3d`` with an object key: record + chain each) over one
keep-alive connection. Batch and helper singles alternate, ``rounds`` times; the best of each counts.
"""

from __future__ import annotations

import time
from typing import Any

from bench.submission import running_stack

KEYS = 1000


def main(keys: int = KEYS, rounds: int = 3) -> dict[str, Any]:
    import httpx

    from shared import s3_workflow
    from shared.storage import get_object_store

    image_keys = [f"images/uploaded/bench/{number:04d}.png" for number in range(keys)]
    batch_s, singles_s = [], []
    with running_stack() as s:
        from shared.celery_app import app

        app.connection_for_write().ensure_connection()
        s3_workflow.submit_s3_image_for_3d_generation(image_keys[0], reconstruct_provider="stub")  # warm the pool
        for _ in range(rounds):
            started = time.perf_counter()
            s3_workflow.submit_batch_s3_images_for_3d_generation(image_keys, reconstruct_provider="stub")
            batch_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            for key in image_keys:
                s3_workflow.submit_s3_image_for_3d_generation(key, reconstruct_provider="stub")
            singles_s.append(time.perf_counter() - started)
        # the API singles need the pictures to exist: one small PNG under every key
        objects = get_object_store()
        png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                            "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
        for key in image_keys:
            objects.put_bytes(key, png, "image/png")
        body = {"kind": "image_to_3d", "providers": {"reconstruct": "stub"}, "use_cache": False}
        with httpx.Client(base_url=s.ours, timeout=30) as client:
            client.post("/v1/generations", json=body | {"images": [image_keys[0]]}).raise_for_status()
            started = time.perf_counter()
            for key in image_keys:
                client.post("/v1/generations", json=body | {"images": [key]}).raise_for_status()
            api_s = time.perf_counter() - started
    return {"keys": keys, "batch_s": min(batch_s), "singles_s": min(singles_s), "api_singles_s": api_s,
            "rounds": rounds}


def table(results: dict[str, Any]) -> str:
    batch, singles, api = results["batch_s"], results["singles_s"], results["api_singles_s"]
    lines = ["| figure | ours: batch helper (ms) | baseline (ms) | speedup |", "|---|---|---|---|",
             f"| {results['keys']:,} keys vs `submit_s3_image_for_3d_generation` x {results['keys']:,} | "
             f"{1000 * batch:.1f} | {1000 * singles:.1f} | {singles / batch:.0f}x |"]
    if api is not None:
        lines.append(f"| {results['keys']:,} keys vs `POST /v1/generations` x {results['keys']:,} | "
                     f"{1000 * batch:.1f} | {1000 * api:.1f} | {api / batch:.0f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(main()))
