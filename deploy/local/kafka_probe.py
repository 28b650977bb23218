"""Health probe for the local broker: a produce and consume round trip.

Run by kafka.sh after start-up. Exits 0 when a message produced to a health topic
comes back to a consumer, 1 when the deadline passes first.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

TOPIC = "__loanwatch_health"


def round_trip(bootstrap: str) -> None:
    """Produce one unique message and read it back from its partition."""
    marker = uuid.uuid4().hex.encode()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000)
    try:
        metadata = producer.send(TOPIC, marker).get(timeout=10)
    finally:
        producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=5000)
    try:
        partition = TopicPartition(TOPIC, metadata.partition)
        consumer.assign([partition])
        consumer.seek(partition, metadata.offset)
        for message in consumer:
            if message.value == marker:
                return
        raise TimeoutError("produced message was not consumed back")
    finally:
        consumer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bootstrap")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            round_trip(args.bootstrap)
            return 0
        except (KafkaError, TimeoutError, OSError) as error:
            last_error = error
            time.sleep(1)
    print(f"kafka probe: no round trip via {args.bootstrap}: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
