"""The kombu transport the service uses (``shared/broker_transport.py``), against a real redis-server."""

from __future__ import annotations

import base64
import json

from shared.broker import get_redis
from shared.broker_transport import Transport
from shared.celery_app import app


def test_celery_sends_through_it_and_one_client_serves_every_publish(redis_server):
    get_redis().delete("mmf-transport-test")
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)
        channel = connection.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        producer = app.amqp.Producer(connection)
        for number in range(3):
            producer.publish({"n": number}, routing_key="mmf-transport-test", exchange="", declare=[])
        with channel.conn_or_acquire() as after:
            assert after is first  # three publishes, no new client
        envelopes = [json.loads(raw) for raw in get_redis().lrange("mmf-transport-test", 0, -1)]
        bodies = [json.loads(base64.b64decode(envelope["body"])) for envelope in envelopes]
        assert sorted(body["n"] for body in bodies) == [0, 1, 2]  # all three landed in Redis


def test_a_replaced_pool_gets_a_new_client(redis_server):
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as before:
            pass
        channel._disconnect_pools()  # what kombu does after a fork
        with channel.conn_or_acquire() as after:
            assert after is not before and after.connection_pool is channel.pool
            assert after.ping()
