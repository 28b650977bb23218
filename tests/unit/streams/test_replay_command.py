"""``loanwatch replay``: outputs, rejects, summary and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from detectors.events import Event, event_to_dict
from streams.cli import cli
from tests.unit.detectors.scenario import Timeline


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _events() -> list[str]:
    t, u = Timeline("b1"), Timeline("b2")
    events: list[Event] = [
        t.repayment(0), u.repayment(0), t.repayment(30, paid=0.0, dpd=35), u.contact(5)
    ]  # fmt: skip
    return [json.dumps(event_to_dict(e)) for e in events]


def test_replay_writes_outputs_and_rejects_bad_lines(tmp_path: Path) -> None:
    good = _events()
    lines = [good[0], "{broken", good[1], good[2], good[2], "", good[3],
             json.dumps({**json.loads(good[3]), "status": "gone", "event_id": "x"})]  # fmt: skip
    source = _write(tmp_path / "events.jsonl", lines)
    result = CliRunner().invoke(cli, ["replay", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events"] == 5 and summary["rejected"] == 2 and summary["duplicates"] == 1
    assert summary["borrowers"] == 2
    assert summary["tier_counts"] == {"A": 1, "B": 0, "C": 0, "D": 1}
    assert summary["alerts_by_queue"] == {"collections.immediate": 1, "credit.limit_review": 1}
    assert summary["alerts_by_reason"]["S_DPD_30"] == 2
    rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text().splitlines()]
    assert [(r["line"], r["original"]) for r in rejected] == [(2, "{broken"), (8, lines[7])]
    assert rejected[1]["reason"].startswith("status: unknown value 'gone'")
    changes = [json.loads(x) for x in (out / "tier_changes.jsonl").read_text().splitlines()]
    assert [(c["borrower_id"], c["previous_tier"], c["tier"]) for c in changes] == [
        ("b1", None, "A"), ("b2", None, "A"), ("b1", "A", "D")]  # fmt: skip
    assert set(changes[2]) == {"borrower_id", "previous_tier", "tier", "reasons", "score",
                               "policy_version", "cause_event_id", "occurred_at"}  # fmt: skip
    alerts = [json.loads(x) for x in (out / "alerts.jsonl").read_text().splitlines()]
    assert {a["cause_event_id"] for a in alerts} == {json.loads(good[2])["event_id"]}


def test_unreadable_input_fails_with_a_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["replay", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_bad_policy_fails_naming_the_key(tmp_path: Path) -> None:
    source = _write(tmp_path / "events.jsonl", _events())
    policy = tmp_path / "policy.toml"
    shipped = Path(__file__).parents[3] / "detectors" / "default_policy.toml"
    policy.write_text(shipped.read_text().replace("clean_cycles = 3", "clean_cycles = 0"))
    result = CliRunner().invoke(
        cli, ["replay", str(source), "--out", str(tmp_path / "o"), "--policy", str(policy)]
    )
    assert result.exit_code == 2
    assert "probation.clean_cycles: must be >= 1" in result.output
