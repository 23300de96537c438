"""The broker, chosen by URL: in-process (embedded), Redis or RabbitMQ."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO


def make_broker(url: str) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if not url:
        # Loses its queue on restart; the outbox re-sends whatever was not done (see relay).
        broker = StubBroker()
    elif url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Confirmed delivery: an enqueue RabbitMQ did not accept raises, so the relay retries it.
        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    else:
        raise ValueError(f"BALLOTDESK_BROKER_URL must start with redis:// or amqp:// (got {url.split(':')[0]}://…)")
    broker.add_middleware(AsyncIO())
    return broker
