"""What every rule is: a frozen object with a stable code, thresholds, and the
:mod:`condition <detectors.rules.conditions>` over the features it fires on.

Thresholds are dataclass fields declared with :func:`param`, which records their bounds, so
the policy loader can validate a policy file against the rules themselves.

>>> from detectors.rules.repayment import DaysPastDue30
>>> rule = DaysPastDue30(min_days=30, tier="D")
>>> rule.code, rule.strong, rule.fires({"dpd_current": 31.0})
('S_DPD_30', True, True)
>>> from detectors.features import feature_vector
>>> rule.condition.holds(feature_vector({"dpd_current": 30.0}))
True
>>> [p.name for p in rule_params(DaysPastDue30)]
['tier', 'min_days']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from detectors.features import feature_vector
from detectors.rules.conditions import Condition

__all__ = ["TIERS", "Param", "Rule", "StrongRule", "WeakRule", "param", "rule_params"]

TIERS = ("A", "B", "C", "D")


@dataclass(frozen=True, slots=True)
class Param:
    """A rule threshold: its policy key, type, default and bounds.

    >>> Param("min_days", int, 30, minimum=1).check(0)
    'must be >= 1'
    """

    name: str
    kind: type
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> str | None:
        """The problem with ``value`` for this parameter, or None if it is acceptable.

        >>> Param("tier", str, "C", choices=("C", "D")).check("E")
        "must be one of 'C', 'D'"
        """
        if self.kind is float and type(value) is int:
            value = float(value)
        value_type: type = type(value)  # type(), not isinstance(): True is no int here
        if value_type is not self.kind:
            return f"must be {'a number' if self.kind is float else self.kind.__name__}"
        if self.choices and value not in self.choices:
            return "must be one of " + ", ".join(repr(c) for c in self.choices)
        if self.minimum is not None and value < self.minimum:
            return f"must be >= {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"must be <= {self.maximum:g}"
        return None


def param(
    default: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """Declare a threshold field of a rule with its bounds (see :class:`Param`).

    >>> from dataclasses import fields
    >>> fields(WeakRule)
    ()
    """
    bounds = {"minimum": minimum, "maximum": maximum, "choices": choices}
    return dataclasses.field(default=default, metadata={"bounds": bounds})


def rule_params(rule_type: type[Rule]) -> tuple[Param, ...]:
    """The thresholds a rule reads from its ``[rules.<key>]`` policy table.

    >>> from detectors.rules.contact import FailedContact
    >>> rule_params(FailedContact)
    (Param(name='min_failed', kind=<class 'int'>, default=1, minimum=1, maximum=None, choices=()),)
    """
    return tuple(
        Param(f.name, type(f.default), f.default, **f.metadata["bounds"])
        for f in dataclasses.fields(rule_type)
    )


@dataclass(frozen=True, slots=True)
class Rule:
    """Base of all rules; subclasses set the class attributes and give their ``condition``.

    >>> Rule().fires({})
    Traceback (most recent call last):
    ...
    NotImplementedError
    """

    code: ClassVar[str] = ""
    key: ClassVar[str] = ""  # the policy table: [rules.<key>]
    description: ClassVar[str] = ""
    strong: ClassVar[bool] = False

    @property
    def target_tier(self) -> str:
        """The tier this rule alone lifts a borrower to.

        >>> WeakRule().target_tier
        'B'
        """
        return "B"

    @property
    def condition(self) -> Condition:
        """What the rule fires on, from its thresholds (the tiering evaluates it directly)."""
        raise NotImplementedError

    def fires(self, features: Mapping[str, float]) -> bool:
        """Whether the rule is triggered by these features, by name (absent ones are 0);
        the tiering asks its ``condition`` with the engine's feature vector instead."""
        return self.condition.holds(feature_vector(features))


@dataclass(frozen=True, slots=True)
class StrongRule(Rule):
    """A rule that alone lifts the tier to its ``tier`` (C or D, from the policy).

    >>> StrongRule(tier="D").target_tier
    'D'
    """

    strong: ClassVar[bool] = True
    tier: str = param("C", choices=("C", "D"))

    @property
    def target_tier(self) -> str:
        """The policy's tier for this rule."""
        return self.tier


@dataclass(frozen=True, slots=True)
class WeakRule(Rule):
    """A rule that counts towards B or C with the other weak rules (policy ``escalation``).

    >>> WeakRule().strong
    False
    """
