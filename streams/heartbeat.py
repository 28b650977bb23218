"""Heartbeat agent: answers each ping on ``heartbeat`` with an ack on ``heartbeat.ack``.

It proves the worker's whole Kafka path (consume, process, produce) is alive; operators and
tests send a ping and wait for its ack.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import faust

from streams.app import app
from streams.settings import get_settings


class Ping(faust.Record, serializer="json"):
    """A request for an acknowledgement; ``ping_id`` is echoed back."""

    ping_id: str


class Ack(faust.Record, serializer="json"):
    """The answer to a ping, naming the worker that processed it."""

    ping_id: str
    worker: str


settings = get_settings()
pings = app.topic(settings.topic("heartbeat"), value_type=Ping, partitions=1)
acks = app.topic(settings.topic("heartbeat.ack"), value_type=Ack, partitions=1)
WORKER_NAME = socket.gethostname()


@app.agent(pings, sink=[acks])
async def heartbeat(stream: faust.StreamT[Ping]) -> AsyncIterator[Ack]:
    """Acknowledge every ping."""
    async for ping in stream:
        yield Ack(ping_id=ping.ping_id, worker=WORKER_NAME)
