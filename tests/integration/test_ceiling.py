"""The benchmark's raw ceiling against the real broker: it decides every event, in event-time
order, and sends what the pipeline sends from its decisions, the matured outcomes included."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from detectors.policy import load_policy
from streams.bench import write_events
from streams.ceiling import run_ceiling
from streams.modelsync import parse_outcome
from streams.produce import produce_file
from streams.settings import Settings
from streams.topics import TopicPlan, create_topics, records_to_end
from tests.conftest import Stack

pytestmark = pytest.mark.integration


def test_the_ceiling_sends_tier_changes_alerts_and_matured_outcomes(
    stack: Stack, tmp_path: Path
) -> None:
    policy = load_policy()
    inputs, outputs, other = (
        TopicPlan(Settings(topic_prefix=f"{stack.topic_prefix}ceiling.{side}.", topic_partitions=2),
                  policy)
        for side in ("in", "out", "again")
    )
    create_topics(stack.kafka_bootstrap, [*inputs.inputs.values()])
    create_topics(stack.kafka_bootstrap, [*outputs.all(), *other.all()])
    events = tmp_path / "events.jsonl"
    count = write_events(events, 3000, seed=7)
    produce_file(events, stack.kafka_bootstrap, inputs)

    result = asyncio.run(run_ceiling(stack.kafka_bootstrap, inputs, outputs, policy, count))
    again = asyncio.run(run_ceiling(stack.kafka_bootstrap, inputs, other, policy, count))

    assert (result["events"], result["rejected"]) == (count, 0)
    # In event-time order, whatever the fetches: the same decisions, so the same records.
    assert again["outputs"] == result["outputs"]
    tier_changes = records_to_end(stack.kafka_bootstrap, outputs.tier_changes.name)
    alerts = [record for spec in outputs.alerts.values()
              for record in records_to_end(stack.kafka_bootstrap, spec.name)]  # fmt: skip
    outcomes = records_to_end(stack.kafka_bootstrap, outputs.model_outcomes.name)
    assert tier_changes and alerts and outcomes
    assert result["outputs"] == len(tier_changes) + len(alerts) + len(outcomes)
    for record in outcomes:
        outcome = parse_outcome(record.value or b"")
        assert outcome.matured_at >= outcome.snapshot.taken_at
        assert record.key == orjson.loads(record.value or b"")["borrower_id"].encode()
    assert all("model_version" in orjson.loads(r.value or b"") for r in tier_changes)
