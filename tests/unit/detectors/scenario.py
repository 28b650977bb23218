"""Builders for events on a simple timeline, shared by the detectors tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from detectors.decision import Decision
from detectors.engine import Monitor
from detectors.events import ContactStatus, Event, NewBorrowing, Repayment
from detectors.policy import Policy, load_policy
from detectors.state import BorrowerState

T0 = datetime(2024, 1, 1, 9, tzinfo=UTC)


class Timeline:
    """Events for one borrower; ``day`` is days after T0, ids are numbered in creation order."""

    def __init__(self, borrower_id: str = "b1") -> None:
        self.borrower_id = borrower_id
        self.count = 0

    def _id(self) -> str:
        self.count += 1
        return f"{self.borrower_id}-e{self.count}"

    def at(self, day: float) -> datetime:
        return T0 + timedelta(days=day)

    def repayment(
        self,
        day: float,
        *,
        due: float = 100.0,
        paid: float | None = None,
        dpd: int = 0,
        minimum: float | None = 10.0,
        balance: float | None = 300.0,
        limit: float | None = 1000.0,
        third_party: bool = False,
        loan: str = "L1",
    ) -> Repayment:
        return Repayment(
            self._id(), self.borrower_id, self.at(day), loan,
            date(2024, 1, 1) + timedelta(days=int(day)), due, due if paid is None else paid, dpd,
            minimum_due=minimum, outstanding_balance=balance, credit_limit=limit,
            paid_by_third_party=third_party,
        )  # fmt: skip

    def borrowing(
        self,
        day: float,
        lender: str,
        lender_type: str = "microloan",
        *,
        amount: float | None = 300.0,
        inquiry: bool = False,
        overdue: int | None = None,
    ) -> NewBorrowing:
        kind = "credit_inquiry" if inquiry else "new_loan"
        return NewBorrowing(
            self._id(), self.borrower_id, self.at(day), lender, lender_type, kind, amount, overdue
        )

    def contact(
        self, day: float, status: str = "reachable", channel: str = "phone"
    ) -> ContactStatus:
        return ContactStatus(self._id(), self.borrower_id, self.at(day), channel, status)


def run(
    events: Iterable[Event], policy: Policy | None = None, **monitor: Any
) -> tuple[BorrowerState | None, list[Decision]]:
    """Feed events in order to one Monitor; returns the last state and every decision."""
    engine = Monitor(policy or load_policy(), **monitor)
    states: dict[str, BorrowerState] = {}
    decisions = []
    state = None
    for event in events:
        state, decision = engine.process(states.get(event.borrower_id), event)
        states[event.borrower_id] = state
        decisions.append(decision)
    return state, decisions
