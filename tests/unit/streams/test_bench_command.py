"""``loanwatch bench core`` runs end to end on a small input (a smoke test, no timing checks)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from streams.cli import cli


def test_bench_core_reports_events_per_second(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        cli, ["bench", "core", "--events", "500", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "events/s" in result.output
    report = json.loads(out.read_text())
    assert report["events"] == 500 and report["summary"]["events"] == 500
