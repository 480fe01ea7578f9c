"""Webhooks: a job may name a URL and the events it wants; each event is delivered by a task,
signed in the Standard Webhooks scheme, retried with backoff, and logged on the job.

Signature: ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>``
where the key is the base64 part of ``WEBHOOK_SECRET`` (``whsec_…``). Deliveries go through the same
SSRF guard as image URLs (``shared.net.fetch``), so a webhook cannot reach loopback or private hosts
unless they are on ``FETCH_ALLOW_HOSTS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from shared.config import Settings
from shared.jobs.base import JobRecord, utcnow

log = logging.getLogger(__name__)

DEFAULT_EVENTS = ("started", "completed", "failed", "canceled")
DELIVERY_TASK = "orchestrator.deliver_webhook"


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300) -> bool:
    """What a receiver does: check the timestamp is recent and one of the signatures matches."""
    timestamp = int(headers["webhook-timestamp"])
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = signature(secret, headers["webhook-id"], timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in headers["webhook-signature"].split())


def check_webhook_url(url: str, settings: Settings) -> None:
    """Refuse at submit a URL the delivery would refuse (loopback, private, metadata … unless allowed)."""
    from shared.net.fetch import FetchPolicy, check_url

    check_url(url, FetchPolicy.from_settings(settings))


def notify(job: JobRecord, event: str, app=None) -> None:
    """Queue a delivery of ``event`` for ``job`` if it asked for one; never fails the caller."""
    request = job.get("request") or {}
    url = request.get("webhook_url")
    if not url or event not in (request.get("webhook_events") or DEFAULT_EVENTS):
        return
    payload = {
        "type": f"job.{event}",
        "timestamp": utcnow(),
        "data": {key: job.get(key) for key in ("job_id", "kind", "status", "stage", "progress", "message", "error")},
    }
    try:
        if app is None:
            from shared.celery_app import app
        message_id = f"msg_{job['job_id']}_{event}_{job.get('progress') or 0}"
        app.send_task(DELIVERY_TASK, args=(job["job_id"], url, message_id, payload))
    except Exception:
        log.exception("could not queue the %s webhook of job %s", event, job["job_id"])


def deliver(url: str, message_id: str, payload: dict[str, Any], settings: Settings) -> int:
    """POST one signed delivery; return the receiver's status (2xx is success)."""
    from shared.net.fetch import FetchPolicy, fetch

    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(settings.webhook_secret, message_id, timestamp, body),
    }
    policy = FetchPolicy.from_settings(settings)
    return fetch(url, policy, method="POST", content=body, headers=headers).status
