"""From rules and score to a tier: the evidence now, then hysteresis against the current tier.

Worsening is immediate. Improving needs probation: the evidence must stay below the current
tier for ``probation.clean_cycles`` repayments or ``probation.days`` of event time, and then
the tier moves down one step only, starting a new probation for the next step.

>>> from detectors.policy import load_policy
>>> from detectors.state import BorrowerState, DAY
>>> tiering = Tiering(load_policy())
>>> state = BorrowerState("b1"); state.now = 10 * DAY
>>> tiering.settle(state, Evidence("D", ("S_DPD_30",)), cycle=True)
('D', ('S_DPD_30',))
>>> state.tier = "D"; state.now = 11 * DAY
>>> tiering.settle(state, Evidence("A", ()), cycle=True)
('D', ('P_PROBATION',))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from detectors.policy import Policy
from detectors.rules.catalogue import CATALOGUE
from detectors.state import DAY, BorrowerState

__all__ = ["PROBATION", "PROBATION_PASSED", "Evidence", "Tiering", "score_reason"]

PROBATION: Final = "P_PROBATION"  # held above the evidence until probation ends
PROBATION_PASSED: Final = "P_PROBATION_PASSED"  # moved down one step after probation
_RANK: Final = {"A": 0, "B": 1, "C": 2, "D": 3}
_TIERS: Final = "ABCD"


def score_reason(tier: str) -> str:
    """The reason code for a score band.

    >>> score_reason("C")
    'SCORE_C'
    """
    return f"SCORE_{tier}"


@dataclass(slots=True, init=False)
class Evidence:
    """What the rules and the score say now, before hysteresis.

    >>> Evidence("B", ("W_LATE_1_29",)).tier
    'B'
    """

    tier: Final[str]
    reasons: Final[tuple[str, ...]]

    def __init__(self, tier: str, reasons: tuple[str, ...]) -> None:
        self.tier = tier
        self.reasons = reasons


class Tiering:
    """Policy-configured tiering: ``assess`` the evidence, then ``settle`` it against the state.

    >>> from detectors.features import feature_vector
    >>> from detectors.policy import load_policy
    >>> t = Tiering(load_policy())
    >>> t.assess(feature_vector({"min_payment_streak": 3.0}), score=0.02)
    Evidence(tier='B', reasons=('W_MIN_PAYMENT_STREAK',))
    """

    def __init__(self, policy: Policy) -> None:
        rules = [cls(**policy.rules[cls.key]) for cls in CATALOGUE if cls.key in policy.rules]
        # Strong rules sorted most severe target tier first; ties keep catalogue order.
        strong = sorted((r for r in rules if r.strong), key=lambda r: -_RANK[r.target_tier])
        # (code, condition, tier rank): made once here, as assess() runs on every event.
        self.strong = [(r.code, r.condition, _RANK[r.target_tier]) for r in strong]
        self.weak = [(r.code, r.condition) for r in rules if not r.strong]
        # (reason, floor, tier rank), most severe first: the first band the score reaches wins.
        self.bands = [
            (score_reason(tier), floor, _RANK[tier])
            for tier, floor in sorted(policy.score_bands.items(), key=lambda kv: -_RANK[kv[0]])
        ]
        self.weak_for_b = policy.weak_for_b
        self.weak_for_c = policy.weak_for_c
        self.probation_cycles = policy.probation_cycles
        self.probation_seconds = policy.probation_days * DAY

    def assess(self, features: list[float], score: float) -> Evidence:
        """The tier the evidence alone supports, with reasons most important first."""
        reasons = []
        rank = 0
        for code, condition, tier_rank in self.strong:
            if condition.holds(features):
                reasons.append(code)
                if tier_rank > rank:
                    rank = tier_rank
        for reason, floor, tier_rank in self.bands:
            if score >= floor:
                reasons.append(reason)
                if tier_rank > rank:
                    rank = tier_rank
                break
        weak = 0
        for code, condition in self.weak:
            if condition.holds(features):
                reasons.append(code)
                weak += 1
        if weak:
            if weak >= self.weak_for_c:
                rank = max(rank, 2)
            elif weak >= self.weak_for_b:
                rank = max(rank, 1)
        return Evidence(_TIERS[rank], tuple(reasons))

    def settle(
        self, state: BorrowerState, evidence: Evidence, *, cycle: bool
    ) -> tuple[str, tuple[str, ...]]:
        """Apply hysteresis; updates the probation counters in ``state``, not its tier.

        ``cycle`` says whether this event is a repayment (a billing cycle for probation).
        """
        current = state.tier
        if current is None or _RANK[evidence.tier] >= _RANK[current]:
            state.clean_cycles = 0
            state.last_trigger = state.now
            return evidence.tier, evidence.reasons
        if cycle:
            state.clean_cycles += 1
        if (
            state.clean_cycles >= self.probation_cycles
            or state.now - state.last_trigger >= self.probation_seconds
        ):
            state.clean_cycles = 0
            state.last_trigger = state.now  # the next step down needs its own probation
            return _TIERS[_RANK[current] - 1], (PROBATION_PASSED, *evidence.reasons)
        return current, (PROBATION, *evidence.reasons)
