"""Liveness (``/health``) and readiness (``/ready``: broker, job store, object store)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from apps.api import deps
from apps.api.auth import current_owner
from shared.jobs import JobStore
from shared.storage import ObjectStore

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", dependencies=[Depends(current_owner)])
def ready(
    jobs: Annotated[JobStore, Depends(deps.jobs)],
    objects: Annotated[ObjectStore, Depends(deps.objects)],
    broker: Annotated[Any, Depends(deps.redis_client)],
) -> JSONResponse:
    """200 when every part answers; 503 naming the parts that do not."""
    checks = {"broker": broker.ping, "job_store": jobs.ping, "object_store": objects.ping}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"{exc.__class__.__name__}: {exc}"[:300]
    down = [name for name, result in results.items() if result != "ok"]
    if down:
        body = {"code": "not_ready", "message": f"not ready: {', '.join(down)} down", "detail": results}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "checks": results})
