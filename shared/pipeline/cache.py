"""The result cache: a job whose content address matches a finished job of the same owner is
served from that job's artifacts instead of running any provider.

The address covers everything that decides the output — the kind, the normalised request, the
bytes of every input image, subject mask or video (not their keys), each provider's name and version, and the
code version — and nothing that does not (webhooks, the cache switch itself).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shared.jobs import JobRecord
from shared.pipeline.context import StageContext, job_key
from shared.providers.registry import provider_class
from shared.version import CODE_VERSION

NOT_IN_ADDRESS = ("webhook_url", "use_cache", "images", "video", "frames_prefix")


def _object_digest(objects, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in objects.iter_chunks(key):
        digest.update(chunk)
    return digest.hexdigest()


def content_address(job: JobRecord, objects) -> str:
    request = job["request"]
    media: dict[str, Any] = {}
    if request.get("images"):
        media["images"] = [_object_digest(objects, key) for key in request["images"]]
    pictures = ((request.get("options") or {}).get("segment") or {}).get("pictures") or []
    masks = [hint["mask"] for hint in pictures if hint and hint.get("mask") and "://" not in hint["mask"]]
    if masks:
        media["masks"] = [_object_digest(objects, key) for key in masks]
    if request.get("video"):
        media["video"] = _object_digest(objects, request["video"])
    if request.get("frames_prefix"):
        media["frames"] = [_object_digest(objects, key) for key in objects.list(request["frames_prefix"])]
    payload = {
        "kind": job["kind"],
        "request": {k: v for k, v in request.items() if k not in NOT_IN_ADDRESS},
        "media": media,
        "providers": {stage: [name, provider_class(stage, name).version] for stage, name in job["providers"].items()},
        "code_version": CODE_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def serve_from_cache(ctx: StageContext) -> bool:
    """Record the job's address; on a hit, copy the cached artifacts and complete the job. True on a hit."""
    from shared.pipeline.finalize import MANIFEST, finalize

    if not ctx.request.get("use_cache", True):
        return False
    address = content_address(ctx.job, ctx.objects)
    ctx.jobs.set_cache_key(ctx.job_id, address)
    source = ctx.jobs.find_completed_by_cache_key(ctx.job["owner"], address)
    if source is None:
        return False
    reused = {}
    for name, info in source["artifacts"].items():
        if name == MANIFEST:
            continue
        ctx.objects.copy(info["key"], job_key(ctx.job_id, name))
        reused[name] = {**info, "key": job_key(ctx.job_id, name)}
    ctx.jobs.add_artifacts(ctx.job_id, reused)
    ctx.add_details({**(source.get("details") or {}), "cache": {"hit": True, "source_job_id": source["job_id"]}})
    ctx.note(f"result cache hit: artifacts reused from job {source['job_id']}, no provider ran")
    finalize(ctx)
    return True
