"""``loanwatch simulate --kafka``: the events written to the file are the events in Kafka."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import Stack
from tests.e2e.pipeline_support import plan_for, read_topic


def test_simulate_to_kafka(stack: Stack, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", "--borrowers", "60", "--months", "6",
         "--seed", "3", "--out", str(events), "--kafka"],
        capture_output=True, text=True, timeout=120, env=stack.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = events.read_text().splitlines()
    assert f"{len(lines)} events sent to Kafka" in result.stdout
    assert (tmp_path / "truth.csv").read_text().count("\n") == 61
    plan = plan_for(stack)
    expected = Counter(json.loads(line)["event_type"] for line in lines)
    for event_type, spec in plan.inputs.items():
        records = read_topic(stack.kafka_bootstrap, spec.name)
        assert len(records) == expected[event_type], event_type
        assert all(json.loads(r.value)["borrower_id"] == r.key.decode() for r in records)
