"""``loanwatch produce``: send a JSONL file of contract-v1 events to the input topics.

Each line goes, unchanged, to the input topic of its ``event_type``, keyed by its
``borrower_id`` (so a borrower's events share a partition and keep their order). Lines that
cannot be routed (not JSON, no known ``event_type`` or no ``borrower_id``) are counted and
reported, not sent: the pipeline's dead-letter path is for messages already in Kafka.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaProducer
from tqdm import tqdm

from streams.kafka_security import kafka_python_kwargs
from streams.topics import TopicPlan, create_topics


@dataclass
class ProduceReport:
    """What a produce run sent and skipped.

    >>> ProduceReport(sent=3).skipped
    0
    """

    sent: int = 0
    skipped: int = 0
    skipped_lines: list[int] = field(default_factory=list)  # first few, for the message
    seconds: float = 0.0


def route(line: bytes, plan: TopicPlan) -> tuple[str, bytes] | None:
    """(topic, key) for one event line, or None when it cannot be routed.

    >>> from detectors.policy import load_policy
    >>> from streams.settings import Settings
    >>> plan = TopicPlan(Settings(), load_policy())
    >>> route(b'{"event_type": "repayment", "borrower_id": "b1"}', plan)
    ('loanwatch.events.repayment', b'b1')
    >>> route(b'not json', plan) is None
    True
    """
    try:
        body = json.loads(line)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    spec = plan.inputs.get(str(body.get("event_type")))
    borrower = body.get("borrower_id")
    if spec is None or not isinstance(borrower, str) or not borrower:
        return None
    return spec.name, borrower.encode()


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        for line in handle:
            line = line.strip()
            if line:
                yield line


def produce_file(
    path: Path, bootstrap: str, plan: TopicPlan, *, rate: float | None = None,
    show_progress: bool = False,
) -> ProduceReport:  # fmt: skip
    """Send every routable line of ``path``; ``rate`` caps events per second.

    The input topics are created first when missing: a topic auto-created by the broker
    would get the broker's default partition count and break co-partitioning.
    """
    create_topics(bootstrap, plan.inputs.values())
    report = ProduceReport()
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024,
        compression_type=None, **kafka_python_kwargs(),
    )  # fmt: skip
    started = time.perf_counter()
    try:
        with tqdm(unit="event", disable=not show_progress) as bar:
            for number, line in enumerate(_lines(path), start=1):
                target = route(line, plan)
                if target is None:
                    report.skipped += 1
                    if len(report.skipped_lines) < 10:
                        report.skipped_lines.append(number)
                    continue
                producer.send(target[0], key=target[1], value=line)
                report.sent += 1
                bar.update()
                if rate:
                    ahead = report.sent / rate - (time.perf_counter() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        producer.flush()
    finally:
        producer.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report
