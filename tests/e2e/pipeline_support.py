"""What the pipeline tests share: expected results from replay, and reading what came out."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition

from detectors.policy import load_policy
from streams.bench import write_events
from streams.produce import produce_file
from streams.replay import replay_file
from streams.settings import Settings
from streams.topics import TopicPlan, records_to_end
from tests.conftest import Stack

TOKEN = "test-token"
# Tier change: (cause_event_id, borrower_id, previous_tier, tier, reasons)
TierRow = tuple[str, str, str | None, str, tuple[str, ...]]


def plan_for(stack: Stack) -> TopicPlan:
    settings = Settings(kafka_bootstrap=stack.kafka_bootstrap, topic_prefix=stack.topic_prefix)
    return TopicPlan(settings, load_policy())


def simulated_events(path: Path, events: int, seed: int) -> Path:
    write_events(path, events, seed)
    return path


def expected_from_replay(events: Path, out: Path) -> tuple[set[TierRow], set[str]]:
    """Tier changes and alert ids that ``loanwatch replay`` gives for the same file."""
    replay_file(events, out, load_policy(), progress=False)
    changes = {
        (c["cause_event_id"], c["borrower_id"], c["previous_tier"], c["tier"], tuple(c["reasons"]))
        for c in map(json.loads, (out / "tier_changes.jsonl").read_text().splitlines())
    }
    alert_lines = (out / "alerts.jsonl").read_text().splitlines()
    alerts = {alert["alert_id"] for alert in map(json.loads, alert_lines)}
    return changes, alerts


def produce(stack: Stack, path: Path) -> int:
    return produce_file(path, stack.kafka_bootstrap, plan_for(stack)).sent


def produce_live(stack: Stack, path: Path, chunk: int = 250) -> int:
    """Send ``path`` as a live stream: in chunks, each acknowledged before the next is sent.

    The producers of a live stream must be less than the reorder hold apart for the worker
    to see event-time order across the input topics (docs/pipeline.md, "Order and time");
    a chunk acknowledged before the next is sent keeps them so however loaded the machine is.
    """
    lines = path.read_text().splitlines(keepends=True)
    sent = 0
    for start in range(0, len(lines), chunk):
        part = path.with_name(f"{path.stem}.chunk.jsonl")
        part.write_text("".join(lines[start:start + chunk]))
        sent += produce(stack, part)
    return sent


def group_lag(stack: Stack) -> int:
    """Input messages not yet committed by the worker group (end offset minus committed)."""
    plan = plan_for(stack)
    # A consumer that names the group but never subscribes reads its offsets without joining.
    group = f"lwtest-{stack.run_id}"
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)  # fmt: skip
    try:
        partitions = [
            TopicPartition(spec.name, p)
            for spec in plan.inputs.values()
            for p in consumer.partitions_for_topic(spec.name) or ()
        ]
        ends = consumer.end_offsets(partitions)
        return sum(max(0, ends[tp] - (consumer.committed(tp) or 0)) for tp in partitions)
    finally:
        consumer.close()


def offsets_committed(stack: Stack) -> bool:
    """Whether the worker group has committed every input message (nothing to redeliver)."""
    return group_lag(stack) == 0


def rows_in_database(url: str) -> tuple[list[TierRow], list[str]]:
    """All tier-history rows and alert ids (lists: duplicates would show)."""
    with psycopg.connect(url) as conn:
        changes = [
            (cause, borrower, previous, tier, tuple(reasons))
            for cause, borrower, previous, tier, reasons in conn.execute(
                "select cause_event_id, borrower_id, previous_tier, tier, reasons from tier_history"
            )
        ]
        alerts = [row[0] for row in conn.execute("select alert_id from alerts")]
    return changes, alerts


def wait_until(check: Callable[[], bool], timeout_s: float, what: str,
               log: Callable[[], str] = lambda: "") -> None:  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout_s:.0f} s\n{log()}")
        time.sleep(1)


def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every message of ``topic`` from the beginning to its current end."""
    return records_to_end(bootstrap, topic)


def outputs_in_kafka(stack: Stack) -> tuple[set[TierRow], list[str]]:
    """Tier changes (as a set: delivery is at least once) and every alert id sent."""
    plan = plan_for(stack)
    changes = set()
    for record in read_topic(stack.kafka_bootstrap, plan.tier_changes.name):
        c = json.loads(record.value)
        changes.add((c["cause_event_id"], c["borrower_id"], c["previous_tier"], c["tier"],
                     tuple(c["reasons"])))  # fmt: skip
    alerts = [
        json.loads(record.value)["alert_id"]
        for queue in plan.queues
        for record in read_topic(stack.kafka_bootstrap, plan.alert_topic(queue))
    ]
    return changes, alerts


def http_get(port: int, path: str, token: str | None = TOKEN) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")
