"""The Celery app and its configuration; task modules live in ``workers/<group>/tasks.py``.

The API imports this module only to send tasks by name, so it pulls in no worker code. The
configuration is added lazily (``add_defaults`` with a callable): importing the module builds
no settings and opens no connection.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from kombu import Exchange, Queue

from shared import queues
from shared.config import Settings, get_settings

TASK_MODULES = (
    "workers.orchestrator.tasks", "workers.env_gen.tasks", "workers.splat.tasks", "workers.asset_3d.tasks",
    "workers.asset_3d.s3_tasks", "workers.cloud.tasks",
)

# kombu's Redis transport, keeping one Redis client per channel (see the module); plain redis:// only.
BROKER_TRANSPORT = "shared.broker_transport:Transport"

# Which queue a task lands on when its signature names none; a provider on another queue
# (a GPU model, SageMaker) sets the queue on its stage's signature instead.
TASK_ROUTES = {
    "orchestrator.*": {"queue": queues.CPU},
    "env_gen.*": {"queue": queues.CPU},
    "asset_3d.*": {"queue": queues.CPU},
    "s3_workflow.*": {"queue": queues.GPU},
    "splat.*": {"queue": queues.CPU},
    "cloud.*": {"queue": queues.SAGEMAKER},
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings derived from ours: at-least-once delivery, JSON only, bounded tasks."""
    return {
        "broker_url": settings.redis_url,
        **({"broker_transport": BROKER_TRANSPORT} if settings.redis_url.startswith("redis://") else {}),
        "result_backend": settings.resolved_result_backend_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": settings.redis_visibility_timeout_s},
        "result_backend_transport_options": {"visibility_timeout": settings.redis_visibility_timeout_s},
        "result_expires": settings.result_expires_s,
        "task_queues": [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in queues.ALL_QUEUES],
        "task_default_queue": queues.CPU,
        "task_create_missing_queues": False,
        "task_routes": TASK_ROUTES,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_soft_time_limit": settings.task_soft_time_limit_s,
        "task_time_limit": settings.task_time_limit_s,
        "worker_send_task_events": False,
        "task_ignore_result": False,
        "include": list(TASK_MODULES),
        "imports": ["workers.logging_signals"],
        "beat_schedule": {
            "reconcile": {"task": "orchestrator.reconcile", "schedule": settings.reconcile_interval_s},
        },
    }


app = Celery("mmf", set_as_current=True)
app.add_defaults(lambda: celery_config(get_settings()))


@worker_process_init.connect
def _remove_orphaned_scratch(**_: Any) -> None:
    """A pool process starts, often in place of one that was killed mid-stage: clear what such left."""
    from shared.pipeline.context import remove_orphaned_scratch

    remove_orphaned_scratch()


@worker_process_init.connect
def _limit_worker_threads(**_: Any) -> None:
    """One math thread per worker process: on a small machine, more threads only contend."""
    threads = str(get_settings().worker_torch_threads)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, threads)
