"""``loanwatch evaluate taiwan`` on the real file: what the protocol guarantees, and a floor.

The quality floor sits below the measured figures (AUC on the last 20,000 clients about
0.775 with the shipped policy and seed 0) so that it catches a broken model or protocol,
not noise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.settings import REPO_ROOT

TAIWAN = REPO_ROOT / "data" / "taiwan" / "taiwan_default_of_credit_card_clients.csv"


def evaluate(data: Path, out: Path, *extra: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "evaluate", "taiwan", "--data", str(data),
         "--out", str(out), *extra],
        capture_output=True, text=True, timeout=900, env=os.environ,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics: dict[str, object] = json.loads((out / "metrics.json").read_text())
    return metrics


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    out = tmp_path_factory.mktemp("taiwan")
    return evaluate(TAIWAN, out), out


def test_labels_are_used_only_after_the_next_delay_clients(
    full_run: tuple[dict[str, object], Path],
) -> None:
    metrics, _ = full_run
    assert metrics["clients"] == 30000
    assert metrics["delay"] == 1000
    assert metrics["min_label_lag"] == 1000
    assert metrics["final_labels_learned"] == 30000 - 1000
    assert metrics["early_outcomes_learned"] == 0


def test_quality_floor_and_tiers_ordered_by_default_rate(
    full_run: tuple[dict[str, object], Path],
) -> None:
    metrics, _ = full_run
    assert isinstance(metrics["auc_last_20000"], float) and metrics["auc_last_20000"] >= 0.76
    assert isinstance(metrics["log_loss_last_20000"], float)
    assert metrics["log_loss_last_20000"] < 0.5  # always predicting the base rate gives 0.53
    rates = metrics["default_rate_by_tier"]
    counts = metrics["count_by_tier"]
    assert isinstance(rates, dict) and isinstance(counts, dict)
    assert sum(counts.values()) == 30000
    assert rates["A"] < rates["B"] < rates["C"] < rates["D"]


def test_writes_the_three_charts(full_run: tuple[dict[str, object], Path]) -> None:
    _, out = full_run
    for name in ("roc.png", "default_rate_by_tier.png", "calibration.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_same_seed_gives_the_same_metrics(tmp_path: Path) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_text("".join(TAIWAN.open().readlines()[:2001]))
    first = evaluate(sample, tmp_path / "a", "--seed", "7", "--delay", "200")
    second = evaluate(sample, tmp_path / "b", "--seed", "7", "--delay", "200")
    other = evaluate(sample, tmp_path / "c", "--seed", "8", "--delay", "200")

    def comparable(m: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in m.items() if k != "seconds"}

    assert comparable(first) == comparable(second)
    assert first["auc_all"] != other["auc_all"]
    assert first["min_label_lag"] == 200


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    not_taiwan = tmp_path / "other.csv"
    not_taiwan.write_text("a,b\n1,2\n")
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "evaluate", "taiwan", "--data", str(not_taiwan),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no 'default.payment.next.month' column" in result.stderr
