"""What the reliability tests share: a steady producer, worker probes, and the final audit.

The audit is the suite's definition of "nothing lost, nothing duplicated": PostgreSQL holds
exactly the tier changes and alerts that ``loanwatch replay`` gives for the good events (each
row once), exactly one dead-letter row per malformed message sent (identified by its source
topic, partition and offset), and the output topics hold every expected id at least once.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from kafka import KafkaProducer

from streams.produce import route
from streams.topics import create_topics
from tests.conftest import Stack, WorkerProcess
from tests.e2e.pipeline_support import (
    TOKEN,
    TierRow,
    expected_from_replay,
    http_get,
    outputs_in_kafka,
    plan_for,
    read_topic,
    rows_in_database,
    wait_until,
)

# Every reliability worker: the lookup token, no model snapshot during the run (so live
# scoring is replay's scorecard), and a short Kafka session so that a killed worker's
# partitions are handed to its successor in seconds rather than Faust's default minute.
WORKER_ENV = {
    "LOANWATCH_API_TOKEN": TOKEN,
    "LOANWATCH_MODEL_SNAPSHOT_EVERY": "1000000000",
    "BROKER_SESSION_TIMEOUT": "10",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "LOANWATCH_REORDER_HOLD_S": "1.0",
}
# (topic, partition, offset) of one message in Kafka
Coordinates = tuple[str, int, int]


def start_worker(stack: Stack, workdir: Path, name: str, **env: str) -> WorkerProcess:
    """A worker with the reliability settings (``env`` overrides them)."""
    return WorkerProcess(stack, workdir, name, **{**WORKER_ENV, **env}).start()


def ready(worker: WorkerProcess) -> bool:
    """Whether the worker holds input partitions and has recovered its table."""
    try:
        status, _ = http_get(worker.web_port, "/ready", None)
    except OSError:
        return False
    return status == 200


def wait_ready(worker: WorkerProcess, timeout_s: float = 120) -> None:
    """Wait for :func:`ready`; fail with the worker's log if it exits or takes too long."""

    def check() -> bool:
        if worker.process is not None and worker.process.poll() is not None:
            raise AssertionError(f"{worker.log_path.name} exited\n{worker.log_tail()}")
        return ready(worker)

    wait_until(check, timeout_s, f"{worker.log_path.name} ready", worker.log_tail)


def metric_values(worker: WorkerProcess) -> dict[str, float]:
    """The worker's ``/metrics`` as {sample name with labels: value}; empty if unreachable."""
    try:
        status, text = http_get(worker.web_port, "/metrics", None)
    except OSError:
        return {}
    if status != 200:
        return {}
    values: dict[str, float] = {}
    for line in str(text).splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def metric_sum(values: dict[str, float], name: str, label: str = "") -> float:
    """The sum of a metric's samples whose labels contain ``label``."""
    return sum(v for k, v in values.items()
               if (k == name or k.startswith(name + "{")) and label in k)  # fmt: skip


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from ``/proc/<pid>/status``."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    assert match, f"no VmRSS for pid {pid}"
    return int(match.group(1)) * 1024


@dataclass(eq=False)  # a thread must stay hashable
class SteadyProducer(threading.Thread):
    """Sends a JSONL file of events to the input topics at ``rate`` events/s in a thread.

    Every ``bad_every`` good events it also sends one malformed message from ``bad`` (each
    payload made unique by a counter) and records where Kafka put it, so the audit can ask
    for exactly that message among the dead letters.
    """

    stack: Stack
    path: Path
    rate: float
    bad: Callable[[int], tuple[str, bytes | None, bytes]] | None = None  # n -> (kind, key, value)
    bad_every: int = 0
    sent: int = 0
    bad_sent: list[Coordinates] = field(default_factory=list)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name="steady-producer", daemon=True)

    def run(self) -> None:
        try:
            self._produce()
        except BaseException as error:  # reported by join_checked
            self.error = error

    def _produce(self) -> None:
        plan = plan_for(self.stack)
        create_topics(self.stack.kafka_bootstrap, plan.inputs.values())
        producer = KafkaProducer(bootstrap_servers=self.stack.kafka_bootstrap, acks="all",
                                 linger_ms=5, reconnect_backoff_max_ms=2000,
                                 delivery_timeout_ms=600_000)  # fmt: skip
        futures = []
        started = time.perf_counter()
        try:
            for line in self.path.read_bytes().splitlines():
                target = route(line, plan)
                assert target is not None, line
                producer.send(target[0], key=target[1], value=line)
                self.sent += 1
                if self.bad is not None and self.bad_every and self.sent % self.bad_every == 0:
                    kind, key, value = self.bad(len(futures))
                    futures.append(producer.send(plan.input_topic(kind), key=key, value=value))
                ahead = self.sent / self.rate - (time.perf_counter() - started)
                if ahead > 0:
                    time.sleep(ahead)
            producer.flush()
            for future in futures:
                meta = future.get(timeout=60)
                self.bad_sent.append((meta.topic, meta.partition, meta.offset))
        finally:
            producer.close()

    def join_checked(self, timeout_s: float = 300) -> None:
        """Wait for the end of the file; re-raise what the thread failed with."""
        self.join(timeout_s)
        assert not self.is_alive(), "the producer did not finish"
        if self.error is not None:
            raise self.error


Message = tuple[str, bytes | None, bytes]  # (event type of the input topic, key, value)


def send_all(stack: Stack, messages: Iterable[Message]) -> list[Coordinates]:
    """Send (kind, key, value) messages to the input topics; return where each one landed."""
    plan = plan_for(stack)
    create_topics(stack.kafka_bootstrap, plan.inputs.values())
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=20,
                             max_request_size=2 * 1024 * 1024)  # fmt: skip
    try:
        futures = [producer.send(plan.input_topic(kind), key=key, value=value)
                   for kind, key, value in messages]  # fmt: skip
        producer.flush()
        return [(m.topic, m.partition, m.offset) for m in (f.get(timeout=60) for f in futures)]
    finally:
        producer.close()


def dead_letter_rows(url: str) -> list[tuple[Coordinates, str, bytes]]:
    """Every dead-letter row: its source coordinates, reason and payload (a list: duplicates
    would show)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select source_topic, source_partition, source_offset, reason, payload"
            " from dead_letters"
        ).fetchall()
    return [((t, p, o), reason, bytes(payload)) for t, p, o, reason, payload in rows]


def current_tiers(url: str) -> dict[str, str]:
    """borrower_id -> tier of the ``borrower_tiers`` table."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select borrower_id, tier from borrower_tiers").fetchall())


@dataclass
class Audit:
    """Everything the pipeline produced for one run, against what replay says it should."""

    expected_changes: set[TierRow]
    expected_alerts: set[str]
    expected_current: dict[str, str]
    db_changes: list[TierRow]
    db_alerts: list[str]
    db_current: dict[str, str]
    kafka_changes: set[TierRow]
    kafka_change_messages: int
    kafka_alerts: list[str]
    dead_rows: list[tuple[Coordinates, str, bytes]]
    dead_topic: list[Coordinates]

    @property
    def duplicate_rows(self) -> int:
        """Rows PostgreSQL holds more than once (must be 0)."""
        changes = Counter(row[0] for row in self.db_changes)
        alerts = Counter(self.db_alerts)
        dead = Counter(coords for coords, _, _ in self.dead_rows)
        return sum(n - 1 for counter in (changes, alerts, dead) for n in counter.values())

    @property
    def lost(self) -> int:
        """Expected tier changes and alerts missing from PostgreSQL or Kafka (must be 0)."""
        return (len(self.expected_changes - set(self.db_changes))
                + len(self.expected_alerts - set(self.db_alerts))
                + len(self.expected_changes - self.kafka_changes)
                + len(self.expected_alerts - set(self.kafka_alerts)))  # fmt: skip

    def counts(self) -> dict[str, int]:
        """Figures for the test's report line."""
        return {
            "tier_changes": len(self.expected_changes),
            "alerts": len(self.expected_alerts),
            "dead_letter_rows": len(self.dead_rows),
            "duplicate_rows": self.duplicate_rows,
            "lost": self.lost,
            "kafka_repeats": (self.kafka_change_messages - len(self.kafka_changes)
                              + len(self.kafka_alerts) - len(set(self.kafka_alerts))),
        }  # fmt: skip

    def assert_exact(self, bad_sent: Iterable[Coordinates]) -> None:
        """PostgreSQL equals replay row for row; Kafka holds every id; every bad message is
        dead-lettered exactly once with a reason."""
        lost = sorted(self.expected_changes - set(self.db_changes))
        extra = sorted(set(self.db_changes) - self.expected_changes)
        assert not lost and not extra, f"tier changes lost {lost[:6]}, not in replay {extra[:6]}"
        assert set(self.db_alerts) == self.expected_alerts
        assert self.duplicate_rows == 0
        assert self.db_current == self.expected_current
        assert self.kafka_changes == self.expected_changes
        assert set(self.kafka_alerts) == self.expected_alerts
        bad = sorted(bad_sent)
        assert sorted(coords for coords, _, _ in self.dead_rows) == bad
        assert all(reason for _, reason, _ in self.dead_rows)
        assert sorted(set(self.dead_topic)) == bad


def expected_current(replay_out: Path) -> dict[str, str]:
    """The last tier of each borrower in replay's tier changes (by event time)."""
    latest: dict[str, tuple[str, str]] = {}
    for line in (replay_out / "tier_changes.jsonl").read_text().splitlines():
        change = json.loads(line)
        known = latest.get(change["borrower_id"])
        if known is None or known[0] <= change["occurred_at"]:
            latest[change["borrower_id"]] = (change["occurred_at"], change["tier"])
    return {borrower: tier for borrower, (_, tier) in latest.items()}


def dead_letters_in_kafka(stack: Stack) -> list[Coordinates]:
    """Source coordinates of every message in the dead-letter topics (repeats kept)."""
    plan = plan_for(stack)
    found: list[Coordinates] = []
    for spec in plan.dead_letters.values():
        for record in read_topic(stack.kafka_bootstrap, spec.name):
            headers = {k: v.decode() for k, v in record.headers}
            found.append((headers["loanwatch.source.topic"],
                          int(headers["loanwatch.source.partition"]),
                          int(headers["loanwatch.source.offset"])))  # fmt: skip
    return found


def settle_and_audit(stack: Stack, good: Path, replay_out: Path, bad_count: int,
                     workers: list[WorkerProcess], timeout_s: float = 240) -> Audit:  # fmt: skip
    """Wait until PostgreSQL and Kafka hold every expected output and dead letter, then
    read everything back."""
    changes, alerts = expected_from_replay(good, replay_out)

    def complete() -> bool:
        db_changes, db_alerts = rows_in_database(stack.database_url)
        if (len(set(db_changes)) < len(changes) or len(set(db_alerts)) < len(alerts)
                or len(dead_letter_rows(stack.database_url)) < bad_count):  # fmt: skip
            return False
        kafka_changes, kafka_alerts = outputs_in_kafka(stack)
        return len(kafka_changes) >= len(changes) and len(set(kafka_alerts)) >= len(alerts)

    def logs() -> str:
        db_changes, db_alerts = rows_in_database(stack.database_url)
        head = (f"tier changes {len(set(db_changes))} of {len(changes)}, alerts "
                f"{len(set(db_alerts))} of {len(alerts)}, dead letters "
                f"{len(dead_letter_rows(stack.database_url))} of {bad_count}; missing "
                f"{sorted(changes - set(db_changes))[:3]}")  # fmt: skip
        return "\n".join([head, *(w.log_tail() for w in workers)])

    wait_until(complete, timeout_s, "every output in PostgreSQL and Kafka", logs)
    db_changes, db_alerts = rows_in_database(stack.database_url)
    change_messages = len(read_topic(stack.kafka_bootstrap, plan_for(stack).tier_changes.name))
    kafka_changes, kafka_alerts = outputs_in_kafka(stack)
    return Audit(changes, alerts, expected_current(replay_out), db_changes, db_alerts,
                 current_tiers(stack.database_url), kafka_changes, change_messages, kafka_alerts,
                 dead_letter_rows(stack.database_url), dead_letters_in_kafka(stack))  # fmt: skip


def report(name: str, **figures: Any) -> None:
    """Print a test's figures (shown by ``pytest -s`` and kept in the junit/CI log)."""
    print(f"\n[reliability] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def seeded(seed: int) -> random.Random:
    """A seeded generator: every random choice of the suite is reproducible."""
    return random.Random(seed)
