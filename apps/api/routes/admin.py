"""``POST /v1/reconcile``: run the reconciler now (it also runs every minute under celery beat)."""

from __future__ import annotations

from typing import Annotated, Any

from celery import Celery
from fastapi import APIRouter, Depends

from apps.api import deps
from apps.api.auth import current_owner
from shared.jobs import JobStore
from shared.pipeline.reconcile import reconcile

router = APIRouter(tags=["operations"], dependencies=[Depends(current_owner)])


@router.post("/v1/reconcile")
def run_reconcile(
    jobs: Annotated[JobStore, Depends(deps.jobs)],
    app: Annotated[Celery, Depends(deps.celery)],
    redis: Annotated[Any, Depends(deps.redis_client)],
) -> dict[str, list[str]]:
    """Re-send jobs whose messages the broker lost (queued ones from the start, running ones from the
    stage they last started); fail those that cannot be re-sent. Say which."""
    return reconcile(jobs, app, redis).as_dict()
