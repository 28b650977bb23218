"""Hypothesis properties of the simulator over sizes, horizons and seeds."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.events import ContactStatus, NewBorrowing, Repayment
from detectors.simulation import Simulation

SIMULATIONS = st.builds(
    Simulation,
    borrowers=st.integers(1, 60),
    seed=st.integers(0, 2**32),
    months=st.integers(1, 15),
)
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(SIMULATIONS)
def test_events_are_ordered_unique_and_inside_the_horizon(sim: Simulation) -> None:
    events = list(sim.events())
    assert all(a.occurred_at <= b.occurred_at for a, b in pairwise(events))
    assert len({e.event_id for e in events}) == len(events)
    end = sim.start + timedelta(days=30 * sim.months + 31)
    assert all(sim.start <= e.occurred_at < end for e in events)
    # one repayment per borrower and month
    repayments = sum(isinstance(e, Repayment) for e in events)
    assert repayments == sim.borrowers * sim.months


@FAST
@given(SIMULATIONS)
def test_truth_is_the_first_repayment_30_days_past_due(sim: Simulation) -> None:
    first_bad: dict[str, datetime] = {}
    for event in sim.events():
        if isinstance(event, Repayment) and event.days_past_due >= 30:
            first_bad.setdefault(event.borrower_id, event.occurred_at)
    outcomes = sim.outcomes
    assert set(outcomes) == {f"b{i:06d}" for i in range(sim.borrowers)}
    assert {b: o.bad_at for b, o in outcomes.items() if o.goes_bad} == first_bad
    # payers that never go bad, whatever the seed
    never = ("steady", "revolver", "cure")
    assert not any(o.goes_bad for o in outcomes.values() if o.archetype in never)


@FAST
@given(SIMULATIONS)
def test_archetype_signals_come_before_going_bad(sim: Simulation) -> None:
    """Stacking shows loans at 3+ small lenders, lost contact a failed check, before bad_at."""
    events = defaultdict(list)
    for event in sim.events():
        events[event.borrower_id].append(event)
    for borrower, outcome in sim.outcomes.items():
        if outcome.bad_at is None:
            continue
        before = [e for e in events[borrower] if e.occurred_at < outcome.bad_at]
        if outcome.archetype == "stacking":
            lenders = {e.lender_id for e in before if isinstance(e, NewBorrowing)
                       and e.kind == "new_loan" and e.lender_type in ("microloan", "p2p", "bnpl")}
            assert len(lenders) >= 3, borrower
        if outcome.archetype == "lost_contact":
            statuses = {e.status for e in before if isinstance(e, ContactStatus)}
            assert statuses & {"no_answer", "unreachable", "powered_off", "number_invalid"}


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 40))
def test_same_seed_same_portfolio(seed: int, borrowers: int) -> None:
    one, two = Simulation(borrowers, seed), Simulation(borrowers, seed)
    assert list(one.events()) == list(two.events())
    assert one.outcomes == two.outcomes
