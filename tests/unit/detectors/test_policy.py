"""Policy loading: the shipped default, and bad files rejected with the offending key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from detectors.policy import PolicyError, default_policy_data, load_policy, parse_policy


def test_default_policy_loads_with_every_rule_enabled() -> None:
    policy = load_policy()
    assert policy.version == "default-2024.1"
    assert len(policy.rules) == 14
    assert policy.score_bands == {"B": 0.10, "C": 0.30, "D": 0.60}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            data = data[key]
        data[leaf] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            data = data[key]
        del data[leaf]

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("rules.overdue_elsewhere.min_days", 0),
         "rules.overdue_elsewhere.min_days: must be >= 1"),
        (_set("rules.dpd_30.tier", "B"), "rules.dpd_30.tier: must be one of 'C', 'D'"),
        (_set("rules.anomaly.min_score", 2), "rules.anomaly.min_score: must be <= 1"),
        (_set("rules.late_1_29.min_days", 1.5), "rules.late_1_29.min_days: must be int"),
        (_set("rules.dpd_30.enabled", "yes"), "rules.dpd_30.enabled: must be true or false"),
        (_set("rules.dpd_30.min_dayz", 3), "rules.dpd_30.min_dayz: unknown key"),
        (_drop("rules.contact_lost"), "rules.contact_lost: missing"),
        (_set("score_bands.C", 0.05), "score_bands.C: must be >= 0.1"),
        (_set("escalation.weak_for_c", 0), "escalation.weak_for_c: must be >= 1"),
        (_set("probation.days", 0), "probation.days: must be >= 1"),
        (_set("suppression.by", "borrower"), "suppression.by: must be one of"),
        (_set("scorecard.points.shoe_size", 1.0), "scorecard.points.shoe_size: not a feature"),
        (_set("treatments.D", "call"), "treatments.D: must be a list"),
        (_set("treatments.D", [{"queue": "q", "severity": "urgent", "treatment": "t"}]),
         "treatments.D[0].severity: must be one of"),
        (_drop("treatments.C_unknown"), "treatments.C_unknown: missing"),
        (_set("colour", "blue"), "colour: unknown key"),
        (_drop("version"), "version: missing"),
    ],
)  # fmt: skip
def test_bad_policy_names_the_key(change: Callable[[dict[str, Any]], None], message: str) -> None:
    data = default_policy_data()
    change(data)
    with pytest.raises(PolicyError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        parse_policy(data)


def test_policy_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("version = ")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(bad)


def test_a_copy_of_the_shipped_file_loads(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[3] / "detectors" / "default_policy.toml"
    copy = tmp_path / "policy.toml"
    copy.write_text(shipped.read_text().replace('"default-2024.1"', '"mine-1"'))
    assert load_policy(copy).version == "mine-1"
