"""kombu's Redis transport with one redis-py client per channel instead of one per call.

When no client is passed in, kombu's Redis channel builds a fresh ``redis.Redis`` over its pool for
every publish, ack and queue-length call, and redis-py's constructor fills a table of some 170 reply
callbacks each time: a third of what sending a task cost the API. A ``redis.Redis`` over a pool
holds no connection of its own, so one per channel serves every such call; it is rebuilt when kombu
replaces the pool (after a fork, or when the connection is lost).

Celery selects it with ``broker_transport`` (``shared.celery_app``); the broker URL stays ``redis://``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _reused_client: Any = None

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
