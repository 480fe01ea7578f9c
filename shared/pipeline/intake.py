"""Turning a validated ``JobCreate`` into the request a job records: kind-specific checks that need
the stores (an uploaded video exists, a plan is a ScenePlan), done before anything is queued."""

from __future__ import annotations

from typing import Any

from shared.assets.formats import check_texture_request, unavailable_reason
from shared.assets.segment_options import SEGMENT_OPTIONS
from shared.config import Settings
from shared.errors import FormatUnavailable, InvalidRequest
from shared.net.fetch import FetchPolicy, check_url
from shared.pipeline.env import validated_plan
from shared.pipeline.webhooks import check_webhook_url
from shared.schemas.api import JobCreate
from shared.storage import ObjectStore, validate_key
from shared.uploads import resolve_reference

URL_SCHEMES = ("https://", "http://")


def touches_stores(body: JobCreate) -> bool:
    """Whether ``prepare_request`` may wait on the network or the object store (so an async caller
    runs it in a thread): URLs are resolved, uploads and frame folders looked up."""
    return bool(body.webhook_url or body.image_urls or body.images or body.kind == "splat")


def _resolved_segment_options(body: JobCreate, objects: ObjectStore, settings: Settings) -> dict[str, Any]:
    """The ``segment`` options (already validated) with their mask references resolved like the images'.

    A hint for a picture the job does not have, or a mask that is not there, is refused now: found
    only when the job runs, it would fail a job the client thinks accepted.
    """
    options = body.options[SEGMENT_OPTIONS]
    pictures = [dict(hint) if hint else None for hint in options.get("pictures") or []]
    count = len(body.images or []) + len(body.image_urls or [])
    if len(pictures) > count:
        raise InvalidRequest(f"options.{SEGMENT_OPTIONS} has {len(pictures)} pictures for {count} images")
    for hint in pictures:
        if not hint or not hint.get("mask"):
            continue
        mask = hint["mask"]
        if mask.startswith(URL_SCHEMES):
            check_url(mask, FetchPolicy.from_settings(settings))
        else:
            hint["mask"] = resolve_reference(mask, "image", objects)
    return {**options, "pictures": pictures}


def prepare_request(body: JobCreate, objects: ObjectStore, settings: Settings) -> dict[str, Any]:
    """The job's request as stored: references resolved to object keys, plans normalised."""
    request = body.model_dump(mode="json", exclude_none=True)
    if body.webhook_url is not None:
        check_webhook_url(body.webhook_url, settings)
    if body.plan is not None:
        request["plan"] = validated_plan(body.plan)
    for url in (body.image_urls or []) + [ref for ref in body.images or [] if ref.startswith(URL_SCHEMES)]:
        check_url(url, FetchPolicy.from_settings(settings))
    if body.images:
        request["images"] = [ref if ref.startswith(URL_SCHEMES) else resolve_reference(ref, "image", objects)
                             for ref in body.images]
    if body.kind == "image_to_3d" and SEGMENT_OPTIONS in body.options:
        request["options"][SEGMENT_OPTIONS] = _resolved_segment_options(body, objects, settings)
    if body.kind in ("text_to_3d", "image_to_3d"):
        check_texture_request(body.output_format, body.with_texture)
        reason = unavailable_reason(body.output_format, settings)
        if reason is not None:
            raise FormatUnavailable(f"output_format: {reason}, which this server does not have")
    if body.kind == "splat":
        if body.video is not None:
            request["video"] = resolve_reference(body.video, "video", objects)
        else:
            prefix = validate_key((body.frames_prefix or "").rstrip("/")) + "/"
            if not objects.list(prefix):
                raise InvalidRequest(f"no frames under {prefix!r}")
            request["frames_prefix"] = prefix
    return request
