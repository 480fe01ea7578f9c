"""kombu's Redis transport with one redis-py client per channel instead of one per call.

When no client is passed in, kombu's Redis channel builds a fresh ``redis.Redis`` over its pool for
every publish, ack and queue-length call, and redis-py's constructor fills a table of some 170 reply
callbacks each time: a third of what sending a task cost the API. A ``redis.Redis`` over a pool
holds no connection of its own, so one per channel serves every such call; it is rebuilt when kombu
replaces the pool (after a fork, or when the connection is lost).

It can also hand back, instead of pushing, the Redis list and payload of every message sent in a
block (``captured_messages``), and push many finished payloads in one round trip (``push_payloads``):
the API sends each submission from a template of what Celery sends (``shared.pipeline.submission``).

Celery selects it with ``broker_transport`` (``shared.celery_app``); the broker URL stays ``redis://``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.utils.json import dumps

_capture = threading.local()


@contextmanager
def captured_messages() -> Iterator[list[tuple[str, str]]]:
    """Messages this thread sends inside the block are collected as ``(list key, payload)``, not pushed."""
    _capture.messages = messages = []
    try:
        yield messages
    finally:
        _capture.messages = None


class Channel(kombu_redis.Channel):
    _reused_client: Any = None

    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        captured = getattr(_capture, "messages", None)
        if captured is None:
            super()._put(queue, message, **kwargs)
            return
        if self._expires and queue in self._expires:
            raise NotImplementedError(f"queue {queue!r} expires: its messages cannot be captured")
        captured.append((self._q_for_pri(queue, self._get_message_priority(message, reverse=False)), dumps(message)))

    def push_payloads(self, messages: list[tuple[str, str]]) -> None:
        """Push finished message payloads (as captured) in one pipeline, in order: one LPUSH per list."""
        by_key: dict[str, list[str]] = {}
        for key, payload in messages:
            by_key.setdefault(key, []).append(payload)
        with self.conn_or_acquire() as client:
            pipe = client.pipeline(transaction=False)
            for key, payloads in by_key.items():
                pipe.lpush(key, *payloads)
            pipe.execute()

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        reused = self._reused_client
        if reused is None or reused.connection_pool is not self.pool:
            reused = self._reused_client = self._create_client()
        yield reused


class Transport(kombu_redis.Transport):
    Channel = Channel
