"""``GET /metrics``: Prometheus text format, read from the counters every process keeps in Redis."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError

from apps.api import deps
from apps.api.auth import current_owner
from apps.api.errors import ApiError
from shared import metrics

log = logging.getLogger(__name__)
router = APIRouter(tags=["metrics"], dependencies=[Depends(current_owner)])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def scrape(redis: Annotated[Any, Depends(deps.redis_client)]) -> Response:
    """A 503 when Redis cannot be read: Prometheus records a failed scrape instead of zeros that look real."""
    try:
        body = metrics.render(redis)
    except RedisError as exc:
        log.warning("metrics: scrape failed: %s: %s", exc.__class__.__name__, exc)
        raise ApiError(503, "metrics_unavailable", "the metrics store (Redis) cannot be read") from None
    return Response(body, media_type=CONTENT_TYPE_LATEST)
