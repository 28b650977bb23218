"""The simulator: reproducible, time-ordered, valid, and its ground truth matches its events."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from detectors.events import Repayment, event_to_dict, parse_event
from detectors.simulation import ARCHETYPES, Simulation


def test_reproducible_ordered_and_valid() -> None:
    sim = Simulation(borrowers=200, seed=11)
    events = list(sim.events())
    assert events == list(Simulation(borrowers=200, seed=11).events())
    assert events != list(Simulation(borrowers=200, seed=12).events())
    assert all(a.occurred_at <= b.occurred_at for a, b in pairwise(events))
    assert len({e.event_id for e in events}) == len(events)
    assert all(parse_event(event_to_dict(e)) == e for e in events[:500])


def test_ground_truth_is_the_first_repayment_30_days_past_due() -> None:
    sim = Simulation(borrowers=300, seed=5)
    first_bad: dict[str, object] = {}
    for event in sim.events():
        if isinstance(event, Repayment) and event.days_past_due >= 30:
            first_bad.setdefault(event.borrower_id, event.occurred_at)
    outcomes = sim.outcomes
    assert {b: o.bad_at for b, o in outcomes.items() if o.goes_bad} == first_bad
    archetypes = Counter(o.archetype for o in outcomes.values())
    assert set(archetypes) == set(ARCHETYPES)
    assert not any(o.goes_bad for o in outcomes.values() if o.archetype in ("steady", "cure"))
