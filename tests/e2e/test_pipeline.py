"""The streaming pipeline on the real broker and database, against ``loanwatch replay``.

For the restarted worker, the events are in Kafka before it starts (a backlog), so each
partition's events are processed in event-time order across the three input topics; the
two workers get a live stream once both hold their partitions (docs/pipeline.md says when a
live stream gets the same order).

One worker processes half of a simulated portfolio's events with two malformed messages
mixed in, is stopped, restarted, and processes the rest; two other workers process the whole
file together. Both runs must give exactly the tier changes and alerts that replay gives for
the same events, in PostgreSQL (each row once) and in Kafka (at least once, same ids).
Models do not publish a snapshot during these runs (``LOANWATCH_MODEL_SNAPSHOT_EVERY`` is
high), so live scoring uses the same scorecard as replay.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer

from tests.conftest import Stack, WorkerProcess
from tests.e2e.pipeline_support import (
    TOKEN,
    TierRow,
    expected_from_replay,
    http_get,
    offsets_committed,
    outputs_in_kafka,
    plan_for,
    produce,
    produce_live,
    read_topic,
    rows_in_database,
    simulated_events,
    wait_until,
)

EVENTS = 3000
PAIR_EVENTS = 6000
PARTITIONS = 8  # LOANWATCH_TOPIC_PARTITIONS default
WORKER_ENV = {"LOANWATCH_API_TOKEN": TOKEN, "LOANWATCH_MODEL_SNAPSHOT_EVERY": "1000000000"}
BROKEN_JSON = b'{"event_type": "repayment", "borrower_id": "zz", "event_id": '
NEGATIVE_AMOUNT = (
    b'{"event_id": "neg-1", "event_type": "repayment", "borrower_id": "zz",'
    b' "occurred_at": "2024-02-01T00:00:00+00:00", "loan_id": "L", "due_date": "2024-02-01",'
    b' "amount_due": -5, "amount_paid": 0, "days_past_due": 0}'
)


@dataclass
class Phase:
    """What a run looked like once its outputs were all in PostgreSQL."""

    expected_changes: set[TierRow]
    expected_alerts: set[str]
    db_changes: list[TierRow]
    db_alerts: list[str]
    kafka_changes: set[TierRow]
    kafka_alerts: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def start(stack: Stack, workdir: Path, name: str, **env: str) -> WorkerProcess:
    return WorkerProcess(stack, workdir, name, **{**WORKER_ENV, **env}).start()


def both_assigned(worker: WorkerProcess) -> bool:
    """Ready, and holding only part of the partitions (the other worker has joined)."""
    try:
        status, body = http_get(worker.web_port, "/ready", None)
    except OSError:
        return False
    return status == 200 and 0 < body.get("input_partitions", 0) < PARTITIONS


def metrics_excerpt(worker: WorkerProcess) -> str:
    """The worker's loanwatch metrics without histograms, for a failure message."""
    try:
        text = http_get(worker.web_port, "/metrics", None)[1]
    except OSError as error:
        return f"(metrics unavailable: {error})"
    return "\n".join(line for line in str(text).splitlines()
                     if line.startswith("loanwatch_") and "_bucket" not in line)  # fmt: skip


def settle(stack: Stack, events: Path, out: Path, workers: list[WorkerProcess]) -> Phase:
    """Wait until PostgreSQL and the output topics hold as many tier changes and alerts as
    replay gives, then read everything.

    Both, because a round writes its rows before it sends its messages: a reader that saw
    the rows complete could otherwise read the topics before the last round's messages.
    """
    changes, alerts = expected_from_replay(events, out)

    def complete() -> bool:
        db_changes, db_alerts = rows_in_database(stack.database_url)
        if len(db_changes) < len(changes) or len(db_alerts) < len(alerts):
            return False
        kafka_changes, kafka_alerts = outputs_in_kafka(stack)
        return len(kafka_changes) >= len(changes) and len(set(kafka_alerts)) >= len(alerts)

    def logs() -> str:
        db_changes, db_alerts = rows_in_database(stack.database_url)
        counts = (f"tier changes {len(db_changes)} of {len(changes)}, "
                  f"alerts {len(db_alerts)} of {len(alerts)}; missing tier changes "
                  f"{sorted(changes - set(db_changes))[:5]}, missing alerts "
                  f"{sorted(alerts - set(db_alerts))[:5]}")  # fmt: skip
        return "\n".join([counts, *(f"{w.log_tail()}\n{metrics_excerpt(w)}" for w in workers)])
    wait_until(complete, 180, "all rows in PostgreSQL", logs)
    db_changes, db_alerts = rows_in_database(stack.database_url)
    kafka_changes, kafka_alerts = outputs_in_kafka(stack)
    return Phase(changes, alerts, db_changes, db_alerts, kafka_changes, kafka_alerts)


@pytest.fixture(scope="module")
def first_run(pipeline_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One worker on the first half of the events (plus two malformed messages)."""
    stack = pipeline_stack("restart")
    tmp = tmp_path_factory.mktemp("restart")
    events = simulated_events(tmp / "events.jsonl", EVENTS, seed=11)
    lines = events.read_text().splitlines(keepends=True)
    half = len(lines) // 2
    first = _write(tmp / "first.jsonl", lines[:half])
    rest = _write(tmp / "rest.jsonl", lines[half:])

    produce(stack, first)
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    topic = plan_for(stack).input_topic("repayment")
    producer.send(topic, key=b"zz", value=BROKEN_JSON)
    producer.send(topic, key=b"zz", value=NEGATIVE_AMOUNT)
    producer.flush()
    producer.close()
    worker = start(stack, tmp, "first")
    try:
        before = settle(stack, first, tmp / "replay-first", [worker])
        before.extra["metrics"] = http_get(worker.web_port, "/metrics", None)[1]
        before.extra["good_events"] = half
        before.extra["policy_versions"] = {
            json.loads(line)["policy_version"]
            for line in (tmp / "replay-first" / "tier_changes.jsonl").read_text().splitlines()
        }
        borrower = before.db_changes[0][1]
        before.extra["borrower"] = borrower
        before.extra["lookup"] = http_get(worker.web_port, f"/borrowers/{borrower}")
        before.extra["no_token"] = http_get(worker.web_port, f"/borrowers/{borrower}", None)
        before.extra["wrong_token"] = http_get(worker.web_port, f"/borrowers/{borrower}", "nope")
        before.extra["unknown"] = http_get(worker.web_port, "/borrowers/nobody-at-all")
        # Stopped once its offsets are committed, the restarted worker must carry on from
        # the state in the changelog alone (redelivery after a crash is the reliability
        # suite's subject).
        wait_until(lambda: offsets_committed(stack), 60, "offsets committed", worker.log_tail)
    finally:
        worker.stop()
    dead = read_topic(stack.kafka_bootstrap, plan_for(stack).dead_letters["repayment"].name)
    return {"stack": stack, "tmp": tmp, "events": events, "rest": rest, "before": before,
            "dead_letters": dead}  # fmt: skip


@pytest.fixture(scope="module")
def restarted_run(first_run: dict[str, Any]) -> dict[str, Any]:
    """A new worker on the rest of the events, from the first worker's committed state."""
    stack, tmp = first_run["stack"], first_run["tmp"]
    produce(stack, first_run["rest"])
    worker = start(stack, tmp, "second")
    try:
        after = settle(stack, first_run["events"], tmp / "replay-all", [worker])
    finally:
        worker.stop()
    return {**first_run, "after": after}


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines))
    return path


def assert_agrees(phase: Phase) -> None:
    assert set(phase.db_changes) == phase.expected_changes
    assert set(phase.db_alerts) == phase.expected_alerts
    duplicates = [k for k, n in Counter(r[0] for r in phase.db_changes).items() if n > 1]
    assert not duplicates
    assert len(phase.db_alerts) == len(set(phase.db_alerts))
    assert phase.kafka_changes == phase.expected_changes
    assert set(phase.kafka_alerts) == phase.expected_alerts


def test_live_results_agree_with_replay(first_run: dict[str, Any]) -> None:
    assert first_run["before"].expected_changes, "the scenario must produce tier changes"
    assert first_run["before"].expected_alerts, "the scenario must produce alerts"
    assert_agrees(first_run["before"])


def test_a_restarted_worker_goes_on_from_its_state_without_loss_or_duplicates(
    restarted_run: dict[str, Any],
) -> None:
    after = restarted_run["after"]
    assert len(after.expected_changes) > len(restarted_run["before"].expected_changes)
    assert_agrees(after)


def test_malformed_messages_are_dead_lettered_with_original_bytes_and_reason(
    first_run: dict[str, Any],
) -> None:
    dead = first_run["dead_letters"]
    assert sorted(r.value for r in dead) == sorted([BROKEN_JSON, NEGATIVE_AMOUNT])
    for record in dead:
        headers = dict(record.headers)
        assert headers["loanwatch.reason"]
        assert headers["loanwatch.source.topic"].decode().endswith("events.repayment")
        assert int(headers["loanwatch.source.offset"]) >= 0
    with psycopg.connect(first_run["stack"].database_url) as conn:
        rows = dict(conn.execute("select payload, reason from dead_letters").fetchall())
    assert set(rows) == {BROKEN_JSON, NEGATIVE_AMOUNT}
    assert "amount_due" in rows[NEGATIVE_AMOUNT]


def test_lookup_api_answers_with_a_token_and_refuses_without(
    first_run: dict[str, Any],
) -> None:
    extra = first_run["before"].extra
    status, body = extra["lookup"]
    assert status == 200
    assert body["tier"] in "ABCD" and body["reasons"] is not None
    assert body["recent_decisions"] and body["recent_decisions"][0]["cause_event_id"]
    assert extra["no_token"][0] == 401
    assert extra["wrong_token"][0] == 401
    assert extra["unknown"][0] == 404


def test_metrics_show_real_values(first_run: dict[str, Any]) -> None:
    text = first_run["before"].extra["metrics"]
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines() if line and not line.startswith("#")
    }  # fmt: skip
    processed = sum(
        v for k, v in values.items()
        if k.startswith("loanwatch_events_total") and 'outcome="processed"' in k
    )  # fmt: skip
    assert processed == first_run["before"].extra["good_events"]
    assert values['loanwatch_dead_letters_total{source="repayment"}'] == 2
    assert values["loanwatch_sink_batch_rows_count"] > 0
    assert values["loanwatch_ingest_to_output_seconds_count"] > 0
    assert values["loanwatch_event_to_decision_seconds_count"] > 0
    # the first input was taken before the latest round's was acknowledged
    taken_at = values["loanwatch_first_input_taken_timestamp_seconds"]
    assert 0 < taken_at <= values["loanwatch_inputs_acknowledged_timestamp_seconds"]
    assert any(k.startswith("loanwatch_alerts_total") and v > 0 for k, v in values.items())
    transitions = [v for k, v in values.items() if k.startswith("loanwatch_tier_transitions")]
    assert sum(transitions) > 0
    assert first_run["before"].extra["borrower"] not in text  # no borrower ids in labels


@pytest.fixture(scope="module")
def two_workers(pipeline_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    stack = pipeline_stack("pair")
    tmp = tmp_path_factory.mktemp("pair")
    events = simulated_events(tmp / "events.jsonl", PAIR_EVENTS, seed=12)
    # Both workers hold their partitions before the events arrive: this test is about
    # splitting the work, not about a rebalance in the middle of it.
    env = {"LOANWATCH_REORDER_HOLD_S": "1.0"}
    workers = [start(stack, tmp, "left", **env), start(stack, tmp, "right", **env)]
    try:
        for worker in workers:
            wait_until(lambda w=worker: both_assigned(w), 120, f"{worker.log_path.name} ready",
                       worker.log_tail)  # fmt: skip
        produce_live(stack, events)
        phase = settle(stack, events, tmp / "replay", workers)
        borrower = phase.db_changes[0][1]
        phase.extra["lookups"] = [http_get(w.web_port, f"/borrowers/{borrower}") for w in workers]
        phase.extra["no_token"] = [http_get(w.web_port, f"/borrowers/{borrower}", None)
                                   for w in workers]  # fmt: skip
        phase.extra["metrics"] = [str(http_get(w.web_port, "/metrics", None)[1]) for w in workers]
    finally:
        for worker in workers:
            worker.stop()
    return {"stack": stack, "phase": phase}


def test_two_workers_split_the_partitions_and_agree_with_replay(
    two_workers: dict[str, Any],
) -> None:
    assert_agrees(two_workers["phase"])
    for text in two_workers["phase"].extra["metrics"]:
        processed = sum(
            float(line.split(" ")[1]) for line in text.splitlines()
            if line.startswith("loanwatch_events_total") and 'outcome="processed"' in line
        )  # fmt: skip
        assert 0 < processed < PAIR_EVENTS, "each worker processes a share of the events"


def test_either_worker_answers_for_any_borrower(two_workers: dict[str, Any]) -> None:
    lookups = two_workers["phase"].extra["lookups"]
    assert [status for status, _ in lookups] == [200, 200]
    assert lookups[0][1] == lookups[1][1]
    assert [status for status, _ in two_workers["phase"].extra["no_token"]] == [401, 401]


def test_the_worker_records_the_policy_it_decides_with(first_run: dict[str, Any]) -> None:
    with psycopg.connect(first_run["stack"].database_url) as conn:
        rows = conn.execute("select version, sha256, document from policy_versions").fetchall()
    versions = {version for version, _, _ in rows}
    assert versions == set(first_run["before"].extra["policy_versions"])
    assert all(len(digest) == 64 and document["version"] == version
               for version, digest, document in rows)  # fmt: skip
