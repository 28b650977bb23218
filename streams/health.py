"""Health probes for the services loanwatch depends on.

``python -m streams.health kafka HOST:PORT --timeout 60`` is the local stack's readiness
wait; the test fixtures call :func:`kafka_round_trip` and :func:`database_answers` directly.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from streams.kafka_security import kafka_python_kwargs
from streams.topics import TopicSpec, create_topics

HEALTH_TOPIC = "__loanwatch_health"


def kafka_round_trip(bootstrap: str, timeout_s: float = 10.0) -> None:
    """Produce one unique message and read it back; raise when that fails.

    A broker that accepts connections but cannot elect a leader or serve a fetch fails
    here, which is why readiness is a round trip and not an open port.
    """
    marker = uuid.uuid4().hex.encode()
    request_ms = int(timeout_s * 1000)
    create_topics(bootstrap, [TopicSpec(HEALTH_TOPIC, 1)])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=request_ms,
                             **kafka_python_kwargs())  # fmt: skip
    try:
        sent = producer.send(HEALTH_TOPIC, marker).get(timeout=timeout_s)
    finally:
        producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=request_ms,
                             **kafka_python_kwargs())  # fmt: skip
    try:
        partition = TopicPartition(HEALTH_TOPIC, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        if not any(message.value == marker for message in consumer):
            raise TimeoutError(f"message produced to {HEALTH_TOPIC} was not consumed back")
    finally:
        consumer.close()


def database_answers(url: str, timeout_s: float = 5.0) -> None:
    """Run ``select 1``; raise when the server does not answer."""
    with psycopg.connect(url, connect_timeout=max(1, int(timeout_s))) as conn:
        conn.execute("select 1")


def wait_until(check: Callable[[], None], timeout_s: float, what: str) -> None:
    """Retry ``check`` until it passes, or raise naming ``what`` and the last error.

    >>> wait_until(lambda: None, 1, "nothing")
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            check()
            return
        except (KafkaError, psycopg.Error, TimeoutError, OSError) as error:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{what} not healthy after {timeout_s:.0f}s: {error}") from error
            time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    """Command-line probe used by ``deploy/local`` scripts."""
    parser = argparse.ArgumentParser(prog="python -m streams.health", description=__doc__)
    parser.add_argument("service", choices=["kafka", "postgres"])
    parser.add_argument("address", help="bootstrap servers, or a database URL")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    probe: Callable[[], None] = (
        (lambda: kafka_round_trip(args.address, min(args.timeout, 10.0)))
        if args.service == "kafka"
        else (lambda: database_answers(args.address))
    )
    try:
        wait_until(probe, args.timeout, args.service)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
