"""What a backtest measures: a pure observer of (event, decision) pairs, and its figures.

``Collector`` is fed every decision of a replay in event-time order (``streams.replay`` calls
it) and keeps O(borrowers) state: each borrower's current tier, the tier mix at each month
end, tier transitions, alerts by month, queue and leading reason, and, against ground truth
(who goes bad and when), what the policy knew *before* each borrower went bad: its worst
tier, its highest score and the first time it reached C or D.

>>> from datetime import UTC, datetime
>>> from detectors.engine import Monitor
>>> from detectors.policy import load_policy
>>> from detectors.simulation import Simulation
>>> sim = Simulation(borrowers=200, seed=3)
>>> collector, monitor, states = Collector(sim.outcomes), Monitor(load_policy()), {}
>>> for event in sim.events():
...     states[event.borrower_id], decision = monitor.process(states.get(event.borrower_id), event)
...     collector(event, decision)
>>> figures = collector.figures()
>>> sum(figures["tier_counts"].values()) == figures["borrowers"] == 200
True
>>> figures["truth"]["share_flagged_before_bad"] > 0.5
True
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from detectors.decision import Decision
from detectors.events import Event
from detectors.models.rolling import auc
from detectors.simulation import Outcome

__all__ = ["TIERS", "Collector", "compare"]

TIERS = ("A", "B", "C", "D")
_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
_DAY = 86_400.0


@dataclass(slots=True)
class _Before:
    """What the policy said about one borrower before it went bad (or over the whole run)."""

    worst: str = "A"
    max_score: float = 0.0
    first_cd: float | None = None  # event time (epoch seconds) of the first C or D


class Collector:
    """Collects a replay's figures; ``truth`` (borrower -> Outcome) enables the truth figures.

    >>> Collector().figures()["tier_counts"]
    {'A': 0, 'B': 0, 'C': 0, 'D': 0}
    """

    def __init__(self, truth: Mapping[str, Outcome] | None = None) -> None:
        self.truth = truth
        self._bad_at = {
            b: o.bad_at.timestamp() for b, o in (truth or {}).items() if o.bad_at is not None
        }
        self.events = 0
        self.tiers: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.month: str | None = None
        self.tier_mix: list[tuple[str, dict[str, int]]] = []  # (YYYY-MM, counts at month end)
        self.transitions: Counter[tuple[str, str]] = Counter()  # ("new" for a first tier, to)
        self.alerts_by_month_queue: Counter[tuple[str, str]] = Counter()
        self.alerts_by_month_reason: Counter[tuple[str, str]] = Counter()
        self.alert_ids: dict[str, tuple[str, str]] = {}  # alert_id -> (borrower, queue)
        self.alerts_per_borrower: Counter[str] = Counter()
        self.before: dict[str, _Before] = {}

    def __call__(self, event: Event, decision: Decision) -> None:
        """Record one decision (duplicates change nothing)."""
        if decision.duplicate:
            return
        self.events += 1
        at = event.occurred_at
        month = month_of(at)
        if month != self.month:
            if self.month is not None:
                self.tier_mix.append((self.month, self._mix()))
            self.month = month
        borrower, tier = decision.borrower_id, decision.tier
        previous = self.tiers.get(borrower)
        if previous != tier:
            if previous is not None:
                self.counts[previous] -= 1
            self.counts[tier] += 1
            self.tiers[borrower] = tier
            self.transitions[(previous or "new", tier)] += 1
        for alert in decision.alerts:
            self.alerts_by_month_queue[(month, alert.queue)] += 1
            self.alerts_by_month_reason[(month, alert.reasons[0] if alert.reasons else "-")] += 1
            self.alert_ids[alert.alert_id] = (borrower, alert.queue)
            self.alerts_per_borrower[borrower] += 1
        ts = at.timestamp()
        bad_at = self._bad_at.get(borrower)
        if bad_at is None or ts < bad_at:
            before = self.before.get(borrower)
            if before is None:
                before = self.before[borrower] = _Before()
            if _RANK[tier] > _RANK[before.worst]:
                before.worst = tier
            before.max_score = max(before.max_score, decision.score)
            if before.first_cd is None and tier in ("C", "D"):
                before.first_cd = ts

    def _mix(self) -> dict[str, int]:
        return {tier: self.counts.get(tier, 0) for tier in TIERS}

    def monthly_tier_mix(self) -> list[tuple[str, dict[str, int]]]:
        """Tier counts at the end of each month seen (borrowers seen so far)."""
        last = [(self.month, self._mix())] if self.month is not None else []
        return self.tier_mix + last

    def lead_days(self) -> list[float]:
        """Days from the first C or D to going bad, for each bad borrower flagged before."""
        return [
            (bad_at - before.first_cd) / _DAY
            for borrower, bad_at in self._bad_at.items()
            if (before := self.before.get(borrower)) is not None and before.first_cd is not None
        ]

    def roc_inputs(self) -> tuple[list[float], list[int]]:
        """(highest score before going bad, or over the run; went bad) per borrower seen."""
        scores, labels = [], []
        for borrower, before in self.before.items():
            scores.append(before.max_score)
            labels.append(int(borrower in self._bad_at))
        return scores, labels

    def figures(self) -> dict[str, Any]:
        """Every figure as plain JSON-ready data (``summary.json`` of a report)."""
        months = sorted({m for m, _ in self.alerts_by_month_queue})
        queues = sorted({q for _, q in self.alerts_by_month_queue})
        leading = sorted({r for _, r in self.alerts_by_month_reason})
        reasons = Counter[str]()
        for (_, reason), n in self.alerts_by_month_reason.items():
            reasons[reason] += n
        by_queue = Counter[str]()
        for (_, queue), n in self.alerts_by_month_queue.items():
            by_queue[queue] += n
        figures: dict[str, Any] = {
            "events": self.events,
            "borrowers": len(self.tiers),
            "tier_counts": self._mix(),
            "tier_mix": [{"month": m, **mix} for m, mix in self.monthly_tier_mix()],
            "transitions": {
                origin: {to: self.transitions.get((origin, to), 0) for to in TIERS}
                for origin in ("new", *TIERS)
            },
            "alerts": sum(by_queue.values()),
            "alerts_by_queue": dict(sorted(by_queue.items())),
            "alerts_by_reason": dict(reasons.most_common()),
            "alerts_by_month": {
                m: {q: self.alerts_by_month_queue.get((m, q), 0) for q in queues} for m in months
            },
            "alert_reasons_by_month": {
                m: {r: self.alerts_by_month_reason.get((m, r), 0) for r in leading} for m in months
            },
        }
        if self.truth is not None:
            figures["truth"] = self._truth_figures()
        return figures

    def _truth_figures(self) -> dict[str, Any]:
        assert self.truth is not None
        leads = sorted(self.lead_days())
        bad = len(self._bad_at)
        worst = Counter(b.worst for b in self.before.values())
        worst_bad = Counter(b.worst for k, b in self.before.items() if k in self._bad_at)
        archetypes: dict[str, list[int]] = {}
        for borrower, outcome in self.truth.items():
            if outcome.bad_at is None:
                continue
            before = self.before.get(borrower)
            counts = archetypes.setdefault(outcome.archetype, [0, 0])
            counts[0] += 1
            counts[1] += before is not None and before.first_cd is not None
        scores, labels = self.roc_inputs()
        area = auc(scores, labels)
        return {
            "borrowers": len(self.truth),
            "bad_borrowers": bad,
            "bad_rate": round(bad / len(self.truth), 4) if self.truth else None,
            "flagged_before_bad": len(leads),
            "share_flagged_before_bad": round(len(leads) / bad, 4) if bad else None,
            "median_lead_days": round(statistics.median(leads), 1) if leads else None,
            "lead_days_quartiles": (
                [round(q, 1) for q in statistics.quantiles(leads, n=4)] if len(leads) > 1 else []
            ),
            "borrowers_by_worst_tier": {t: worst.get(t, 0) for t in TIERS},
            "bad_rate_by_worst_tier": {
                t: round(worst_bad.get(t, 0) / worst[t], 4) if worst.get(t) else None
                for t in TIERS
            },
            "flagged_share_by_archetype": {
                name: round(flagged / total, 4)
                for name, (total, flagged) in sorted(archetypes.items())
            },
            "auc_max_score_before_bad": None if area is None else round(area, 4),
        }


def compare(
    a: Collector, b: Collector, truth: Mapping[str, Outcome] | None = None, examples: int = 20
) -> dict[str, Any]:
    """What changes from policy ``a`` to policy ``b``: borrowers, tiers and alerts.

    >>> compare(Collector(), Collector())["borrowers_changed"]
    0
    """
    borrowers = sorted(set(a.tiers) | set(b.tiers))
    changed = []
    final_moves: Counter[tuple[str, str]] = Counter()
    for borrower in borrowers:
        fa, fb = a.tiers.get(borrower, "-"), b.tiers.get(borrower, "-")
        wa, wb = _worst(a, borrower), _worst(b, borrower)
        if fa != fb:
            final_moves[(fa, fb)] += 1
        if fa != fb or wa != wb:
            changed.append((borrower, fa, fb, wa, wb))
    only_a = a.alert_ids.keys() - b.alert_ids.keys()
    only_b = b.alert_ids.keys() - a.alert_ids.keys()
    rows = []
    for borrower, fa, fb, wa, wb in changed[:examples]:
        outcome = truth.get(borrower) if truth else None
        rows.append({
            "borrower_id": borrower,
            "archetype": outcome.archetype if outcome else None,
            "goes_bad": outcome.goes_bad if outcome else None,
            "final_tier": [fa, fb],
            "worst_tier_before_bad": [wa, wb],
            "alerts": [a.alerts_per_borrower[borrower], b.alerts_per_borrower[borrower]],
        })  # fmt: skip
    return {
        "borrowers_changed": len(changed),
        "final_tier_changed": sum(final_moves.values()),
        "final_tier_moves": {f"{x}->{y}": n for (x, y), n in sorted(final_moves.items())},
        "alerts_only_in_a": len(only_a),
        "alerts_only_in_b": len(only_b),
        "alerts_only_in_a_by_queue": _by_queue(a, only_a),
        "alerts_only_in_b_by_queue": _by_queue(b, only_b),
        "examples": rows,
    }


def _worst(collector: Collector, borrower: str) -> str:
    before = collector.before.get(borrower)
    return before.worst if before is not None else "-"


def _by_queue(collector: Collector, ids: set[str]) -> dict[str, int]:
    return dict(sorted(Counter(collector.alert_ids[i][1] for i in ids).items()))


def month_of(at: datetime) -> str:
    """The ``YYYY-MM`` label a month is reported under (UTC).

    >>> month_of(datetime(2024, 3, 31, 23, tzinfo=UTC))
    '2024-03'
    """
    at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"
