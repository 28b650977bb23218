"""The policy: every threshold, band, probation and treatment, read from a versioned TOML file.

``load_policy()`` without a path reads ``default_policy.toml`` shipped with the package. A bad
file is rejected with a :class:`PolicyError` whose message starts with the offending key;
``docs/policy.md`` documents every key.

>>> policy = load_policy()
>>> policy.rules["overdue_elsewhere"]["min_days_small_loan"], policy.probation_days
(1, 90.0)
>>> data = default_policy_data(); data["rules"]["overdue_elsewhere"]["min_days"] = 0
>>> parse_policy(data)
Traceback (most recent call last):
...
detectors.policy_reader.PolicyError: rules.overdue_elsewhere.min_days: must be >= 1
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from detectors.features import FEATURE_NAMES
from detectors.models.arena import PromotionRule
from detectors.models.blend import Blend
from detectors.models.outcomes import OutcomeRule
from detectors.policy_reader import PolicyError, TableReader
from detectors.rules.base import rule_params
from detectors.rules.catalogue import CATALOGUE

__all__ = [
    "SEVERITIES",
    "SITUATIONS",
    "Action",
    "Policy",
    "PolicyError",
    "default_policy_data",
    "load_policy",
    "parse_policy",
    "policy_data",
]

SEVERITIES = ("info", "low", "medium", "high", "critical")
# The situations the treatment strategy tells apart (see detectors.treatments).
SITUATIONS = ("A", "A_eligible", "B", "C_reachable", "C_unreachable", "C_unknown", "D")
SUPPRESSION_KEYS = ("treatment", "treatment_and_reasons")


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to do for a situation: put an alert with this treatment on a queue.

    >>> Action("collections.immediate", "critical", "call_now").queue
    'collections.immediate'
    """

    queue: str
    severity: str
    treatment: str


@dataclass(frozen=True, slots=True)
class ModelPolicy:
    """How models learn: the bad definition and horizon, the blend, promotion.

    >>> load_policy().models.outcomes.bad_dpd
    30
    """

    outcomes: OutcomeRule
    blend: Blend
    promotion: PromotionRule


@dataclass(frozen=True)
class Policy:
    """A validated policy. Build it with :func:`load_policy` or :func:`parse_policy`.

    >>> load_policy().score_bands["D"] > load_policy().score_bands["C"]
    True
    """

    version: str
    rules: Mapping[str, Mapping[str, Any]]  # rule key -> thresholds, enabled rules only
    min_payment_tolerance: float
    dedup_ids: int
    weak_for_b: int
    weak_for_c: int
    score_bands: Mapping[str, float]  # tier B/C/D -> lowest probability giving it
    scorecard_intercept: float
    scorecard_points: Mapping[str, float]  # feature -> points per unit
    probation_cycles: int
    probation_days: float
    suppression_by: str
    suppression_hours: float
    suppression_hours_by_queue: Mapping[str, float]
    eligibility_min_utilisation: float
    treatments: Mapping[str, tuple[Action, ...]]
    models: ModelPolicy


def default_policy_data() -> dict[str, Any]:
    """The shipped default policy as decoded TOML, to copy and adjust (e.g. in tests).

    >>> default_policy_data()["escalation"]
    {'weak_for_b': 1, 'weak_for_c': 3}
    """
    text = resources.files("detectors").joinpath("default_policy.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; None reads the shipped default.

    >>> load_policy(Path("/no/such.toml"))
    Traceback (most recent call last):
    ...
    detectors.policy_reader.PolicyError: cannot read policy /no/such.toml: No such file or directory
    """
    return parse_policy(policy_data(path))


def policy_data(path: Path | None = None) -> dict[str, Any]:
    """A policy file as decoded TOML, unvalidated; None reads the shipped default.

    >>> policy_data()["version"]
    'default-2024.1'
    """
    if path is None:
        return default_policy_data()
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise PolicyError(f"cannot read policy {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path} is not valid TOML: {error}") from None


def parse_policy(data: Mapping[str, Any]) -> Policy:
    """Validate decoded TOML into a Policy; unknown keys are errors, as are missing ones.

    >>> parse_policy({"version": "x"})
    Traceback (most recent call last):
    ...
    detectors.policy_reader.PolicyError: features: missing
    """
    top = TableReader(data, "")
    version = top.string("version")
    features = top.table("features")
    state = top.table("state")
    escalation = top.table("escalation")
    weak_for_b = escalation.integer("weak_for_b", minimum=1)
    weak_for_c = escalation.integer("weak_for_c", minimum=weak_for_b)
    scorecard = top.table("scorecard")
    probation = top.table("probation")
    suppression = top.table("suppression")
    eligibility = top.table("eligibility")
    policy = Policy(
        version=version,
        rules=_rules(top.table("rules")),
        min_payment_tolerance=features.number("minimum_payment_tolerance", minimum=0),
        dedup_ids=state.integer("dedup_ids", minimum=1),
        weak_for_b=weak_for_b,
        weak_for_c=weak_for_c,
        score_bands=_score_bands(top.table("score_bands")),
        scorecard_intercept=scorecard.number("intercept"),
        scorecard_points=_points(scorecard.table("points")),
        probation_cycles=probation.integer("clean_cycles", minimum=1),
        probation_days=probation.number("days", minimum=1),
        suppression_by=suppression.string("by", SUPPRESSION_KEYS),
        suppression_hours=suppression.number("default_hours", minimum=0),
        suppression_hours_by_queue=_hours_by_queue(suppression.table("hours")),
        eligibility_min_utilisation=eligibility.number("min_utilisation", minimum=0),
        treatments=_treatments(top.table("treatments")),
        models=_models(top.table("models")),
    )
    for table in (top, features, state, escalation, scorecard, probation, suppression, eligibility):
        table.finish()
    return policy


def _models(table: TableReader) -> ModelPolicy:
    blend = table.table("blend")
    blend_start = blend.integer("start", minimum=0)
    promotion = table.table("promotion")
    models = ModelPolicy(
        outcomes=OutcomeRule(
            bad_dpd=table.integer("bad_dpd", minimum=1),
            horizon_days=table.integer("horizon_days", minimum=1),
            max_pending=table.integer("max_pending", minimum=1),
        ),
        blend=Blend(start=blend_start, full=blend.integer("full", minimum=blend_start + 1)),
        promotion=PromotionRule(
            window=promotion.integer("window", minimum=10),
            min_count=promotion.integer("min_count", minimum=10),
            margin=promotion.number("margin", minimum=0, maximum=1),
            check_every=promotion.integer("check_every", minimum=1),
        ),
    )
    for section in (blend, promotion, table):
        section.finish()
    return models


def _rules(table: TableReader) -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for rule in CATALOGUE:
        section = table.table(rule.key)
        thresholds = {}
        for spec in rule_params(rule):
            value = section.value(spec.name)
            problem = spec.check(value)
            if problem:
                raise section.error(spec.name, problem)
            thresholds[spec.name] = spec.kind(value)
        if section.boolean("enabled"):
            rules[rule.key] = thresholds
        section.finish()
    table.finish()
    return rules


def _score_bands(table: TableReader) -> dict[str, float]:
    bands: dict[str, float] = {}
    floor = 0.0
    for tier in ("B", "C", "D"):
        bands[tier] = floor = table.number(tier, minimum=floor, maximum=1)
    table.finish()
    return bands


def _points(table: TableReader) -> dict[str, float]:
    for name in table.names():
        if name not in FEATURE_NAMES:
            raise table.error(name, "not a feature (see docs/policy.md)")
    return {name: table.number(name) for name in table.names()}


def _hours_by_queue(table: TableReader) -> dict[str, float]:
    return {queue: table.number(queue, minimum=0) for queue in table.names()}


def _treatments(table: TableReader) -> dict[str, tuple[Action, ...]]:
    treatments = {}
    for situation in SITUATIONS:
        actions = table.value(situation)
        if not isinstance(actions, list):
            raise table.error(situation, "must be a list of {queue, severity, treatment}")
        parsed = []
        for index, item in enumerate(actions):
            if not isinstance(item, dict):
                raise table.error(f"{situation}[{index}]", "must be a table")
            entry = TableReader(item, table.key(f"{situation}[{index}]"))
            parsed.append(
                Action(
                    entry.string("queue"),
                    entry.string("severity", SEVERITIES),
                    entry.string("treatment"),
                )
            )
            entry.finish()
        treatments[situation] = tuple(parsed)
    table.finish()
    return treatments
