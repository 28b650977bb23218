"""A seeded, pure generator of borrower event streams with ground truth.

Each borrower follows an archetype (steady payer, minimum-payment revolver, gradual
deterioration, sudden shock, multi-lender stacking, bust-out, lost contact, cure/recovery)
whose plan is drawn up front, so who goes bad and when (the first repayment reporting
30+ days past due) is known before a single event is generated. Events are produced month by
month, so memory stays O(borrowers), not O(events); a "month" is 30 days from ``start``.

>>> sim = Simulation(borrowers=50, seed=7)
>>> events = list(sim.events())
>>> all(a.occurred_at <= b.occurred_at for a, b in zip(events, events[1:]))
True
>>> sim == Simulation(borrowers=50, seed=7) and len(events) == len(list(sim.events()))
True
>>> sum(o.goes_bad for o in sim.outcomes.values()) > 0
True
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from detectors.events import ContactStatus, Event, NewBorrowing, Repayment

__all__ = ["ARCHETYPES", "Outcome", "Simulation"]

# Archetype -> share of the book.
ARCHETYPES = {
    "steady": 0.45,
    "revolver": 0.15,
    "deterioration": 0.08,
    "shock": 0.05,
    "stacking": 0.07,
    "bust_out": 0.04,
    "lost_contact": 0.06,
    "cure": 0.10,
}
_SMALL_LENDERS = ("microloan", "p2p", "bnpl")
_FAILED = ("no_answer", "unreachable", "powered_off")
_MONTH = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Ground truth for one borrower: archetype, and when (if ever) it first went 30+ DPD.

    >>> Outcome("b1", "steady", None).goes_bad
    False
    """

    borrower_id: str
    archetype: str
    bad_at: datetime | None

    @property
    def goes_bad(self) -> bool:
        """Whether the borrower goes 30+ days past due within the simulation."""
        return self.bad_at is not None


@dataclass(frozen=True, slots=True)
class _Plan:
    borrower_id: str
    archetype: str
    onset: int  # month the archetype's story starts
    due_day: int
    pay_delay: timedelta
    limit: float
    bad: bool  # stacking: whether the stacking ends in default


@dataclass(frozen=True)
class Simulation:
    """``borrowers`` borrowers over ``months`` months from ``start``, reproducible by ``seed``.

    >>> Simulation(borrowers=3, seed=1).outcomes["b000000"].archetype in ARCHETYPES
    True
    """

    borrowers: int
    seed: int
    months: int = 12
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)

    @property
    def outcomes(self) -> dict[str, Outcome]:
        """Ground truth per borrower id."""
        return {
            p.borrower_id: Outcome(p.borrower_id, p.archetype, self._bad_at(p))
            for p in self._plans()
        }

    def events(self) -> Iterator[Event]:
        """All events in ``occurred_at`` order (ties broken by borrower, then generation order)."""
        plans = self._plans()
        for month in range(self.months):
            batch: list[tuple[datetime, int, int, Event]] = []
            # One generator per month (not per borrower-month): seeding dominates otherwise.
            rng = random.Random(f"{self.seed}:{month}")
            start = self._month_start(month)
            for index, plan in enumerate(plans):
                for n, event in enumerate(_month_events(plan, month, start, rng)):
                    batch.append((event.occurred_at, index, n, event))
            batch.sort(key=lambda item: item[:3])
            for item in batch:
                yield item[3]

    def _month_start(self, month: int) -> datetime:
        return self.start + month * _MONTH

    def _plans(self) -> list[_Plan]:
        rng = random.Random(self.seed)
        names, weights = list(ARCHETYPES), list(ARCHETYPES.values())
        return [
            _Plan(
                borrower_id=f"b{index:06d}",
                archetype=rng.choices(names, weights)[0],
                onset=rng.randint(2, max(2, self.months - 5)),
                due_day=rng.randint(0, 24),
                pay_delay=timedelta(hours=rng.uniform(1, 72)),
                limit=float(rng.choice((1000, 2000, 5000, 10000))),
                bad=rng.random() < 0.6,
            )
            for index in range(self.borrowers)
        ]

    def _bad_at(self, plan: _Plan) -> datetime | None:
        month = _bad_month(plan)
        if month is None or month >= self.months:
            return None
        return _repayment_time(plan, self._month_start(month))


def _bad_month(plan: _Plan) -> int | None:
    offsets = {"deterioration": 4, "shock": 0, "bust_out": 1, "lost_contact": 1}
    if plan.archetype == "stacking" and plan.bad:
        return plan.onset + 3
    offset = offsets.get(plan.archetype)
    return None if offset is None else plan.onset + offset


def _repayment_time(plan: _Plan, month_start: datetime) -> datetime:
    return month_start + timedelta(days=plan.due_day) + plan.pay_delay


def _payment(plan: _Plan, month: int) -> tuple[str, int]:
    """(kind, days past due) of this month's repayment: kind is full, min, partial or missed."""
    k, story = plan.archetype, month - plan.onset
    bad = _bad_month(plan)
    if bad is not None and month >= bad:
        return "missed", 31 + 30 * (month - bad)
    if k == "revolver" or (k == "stacking" and story >= 0):
        return "min", 0
    if story < 0 or k == "steady":
        return "full", 0
    if k == "deterioration":
        return ("min", 0) if story < 2 else ("partial", 8) if story == 2 else ("missed", 22)
    if k == "cure":
        return ("partial", 12 + 6 * story) if story < 2 else ("full", 0)
    if k == "bust_out":
        return "min", 0
    return "partial", 10  # lost_contact, the month contact is lost


def _month_events(plan: _Plan, month: int, start: datetime, rng: random.Random) -> list[Event]:
    bid, story = plan.borrower_id, month - plan.onset
    events: list[Event] = []

    def eid() -> str:
        return f"{bid}-{month:03d}-{len(events):02d}"

    def at(day: float) -> datetime:
        return start + timedelta(days=day)

    kind, dpd = _payment(plan, month)
    due = 0.05 * plan.limit
    minimum = round(0.1 * due, 2)
    paid = {"full": due, "min": minimum, "partial": round(minimum / 2, 2), "missed": 0.0}[kind]
    usage = rng.uniform(0.2, 0.6) if kind == "full" else 0.9
    if plan.archetype == "bust_out":
        usage = 0.97
    events.append(
        Repayment(
            eid(), bid, _repayment_time(plan, start), f"{bid}-L1",
            date.fromordinal(start.toordinal() + plan.due_day), due, paid, dpd,
            minimum_due=minimum, outstanding_balance=round(usage * plan.limit, 2),
            credit_limit=plan.limit, paid_by_third_party=kind == "partial" and rng.random() < 0.2,
        )
    )  # fmt: skip
    if plan.archetype == "stacking" and story == 0:
        for n in range(rng.randint(3, 4)):
            lender, amount = f"lender-{rng.randint(1, 99)}-{n}", float(rng.randint(3, 10) * 100)
            kind = rng.choice(_SMALL_LENDERS)
            events.append(NewBorrowing(eid(), bid, at(2 + 6 * n), lender, kind, amount=amount))
    if plan.archetype == "stacking" and story == 2:
        # A bureau update: an inquiry that also reports the stacked loans running late.
        overdue = rng.randint(5, 20)
        events.append(
            NewBorrowing(eid(), bid, at(10), "lender-x", "microloan", kind="credit_inquiry",
                         overdue_days_elsewhere=overdue)
        )  # fmt: skip
    if plan.archetype == "bust_out" and story in (-1, 0):
        for n in range(4 if story < 0 else 2):
            events.append(NewBorrowing(eid(), bid, at(3 + 5 * n), f"bank-{n}", "bank",
                                       kind="credit_inquiry" if story < 0 else "new_loan",
                                       amount=None if story < 0 else 2 * plan.limit))  # fmt: skip
    failing = plan.archetype == "lost_contact" and story >= 0
    failing |= plan.archetype in ("shock", "bust_out") and _bad_month(plan) == month
    if failing:
        for n in range(4):
            status = "number_invalid" if story >= 1 and n == 3 else rng.choice(_FAILED)
            events.append(ContactStatus(eid(), bid, at(1 + 7 * n + rng.random()), "phone", status))
    elif plan.archetype == "cure" and story in (0, 1):
        events.append(ContactStatus(eid(), bid, at(20), "phone", "reachable"))
    elif rng.random() < 0.15:
        events.append(ContactStatus(eid(), bid, at(rng.uniform(0, 29)), "phone", "reachable"))
    return events
