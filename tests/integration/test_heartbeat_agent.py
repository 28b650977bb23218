"""A Faust agent round trip through the real broker: ping in, ack out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from kafka import KafkaConsumer, KafkaProducer

from tests.conftest import Stack, WorkerProcess


def test_a_ping_comes_back_as_an_ack_from_a_running_worker(
    stack: Stack, start_worker: Callable[..., WorkerProcess]
) -> None:
    worker = start_worker()
    ping_id = uuid.uuid4().hex
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    producer.send(f"{stack.topic_prefix}heartbeat", json.dumps({"ping_id": ping_id}).encode())
    producer.flush(timeout=10)
    producer.close()

    consumer = KafkaConsumer(
        f"{stack.topic_prefix}heartbeat.ack",
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=90_000,
    )
    try:
        ack = next((json.loads(m.value) for m in consumer if ping_id.encode() in m.value), None)
    finally:
        consumer.close()

    assert ack is not None, f"no ack within 90 s; worker log:\n{worker.log_tail()}"
    assert ack["ping_id"] == ping_id
    assert ack["worker"]
