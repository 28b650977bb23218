"""Hypothesis properties of the engine over arbitrary valid event sequences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.decision import Decision
from detectors.engine import Monitor
from detectors.events import (
    BORROWING_KINDS,
    CHANNELS,
    CONTACT_STATUSES,
    LENDER_TYPES,
    ContactStatus,
    Event,
    NewBorrowing,
    Repayment,
    event_to_dict,
    parse_event,
)
from detectors.policy import load_policy
from detectors.state import BorrowerState

MONITOR = Monitor(load_policy())
T0 = datetime(2024, 1, 1, tzinfo=UTC)
amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False)
optional_amounts = st.none() | amounts
days = st.integers(min_value=0, max_value=400)
moments = st.builds(lambda d, s: T0 + timedelta(days=d, seconds=s), days, st.integers(0, 86399))
borrowers = st.sampled_from(["b1", "b2"])


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    kinds = st.lists(st.sampled_from(["repayment", "new_borrowing", "contact_status"]), max_size=40)
    out: list[Event] = []
    for n, kind in enumerate(draw(kinds)):
        common = (f"e{n}", draw(borrowers), draw(moments))
        if kind == "repayment":
            out.append(Repayment(
                *common, draw(st.sampled_from(["L1", "L2"])),
                date(2024, 1, 1) + timedelta(draw(days)),
                draw(amounts), draw(amounts), draw(st.integers(0, 200)), draw(optional_amounts),
                draw(optional_amounts), draw(st.none() | st.floats(1, 1e6)), draw(st.booleans()),
            ))  # fmt: skip
        elif kind == "new_borrowing":
            out.append(NewBorrowing(
                *common, draw(st.sampled_from(["x", "y", "z", "w"])),
                draw(st.sampled_from(LENDER_TYPES)), draw(st.sampled_from(BORROWING_KINDS)),
                draw(optional_amounts), draw(st.none() | st.integers(0, 400)),
            ))  # fmt: skip
        else:
            out.append(ContactStatus(
                *common, draw(st.sampled_from(CHANNELS)), draw(st.sampled_from(CONTACT_STATUSES))
            ))  # fmt: skip
    return out


def _replay(stream: list[Event]) -> tuple[list[Decision], dict[str, bytes]]:
    states: dict[str, BorrowerState] = {}
    decisions = []
    for event in stream:
        state, decision = MONITOR.process(states.get(event.borrower_id), event)
        states[event.borrower_id] = state
        decisions.append(decision)
    return decisions, {k: v.to_bytes() for k, v in states.items()}


def _outputs(decisions: list[Decision]) -> list[object]:
    changes = [d.tier_change.to_dict() for d in decisions if d.tier_change]
    return [changes, [a.to_dict() for d in decisions for a in d.alerts]]


@settings(max_examples=150, deadline=None)
@given(events())
def test_valid_sequences_never_raise_and_tiers_stay_in_a_to_d(stream: list[Event]) -> None:
    decisions, _ = _replay(stream)
    assert all(d.tier in "ABCD" and len(d.tier) == 1 for d in decisions)
    assert all(0.0 <= d.score <= 1.0 for d in decisions)


@settings(max_examples=150, deadline=None)
@given(events())
def test_every_event_twice_gives_the_same_output_as_once(stream: list[Event]) -> None:
    once, once_states = _replay(stream)
    twice, twice_states = _replay([e for event in stream for e in (event, event)])
    assert [d.duplicate for d in twice] == [False, True] * len(stream)
    assert _outputs(twice) == _outputs(once)
    assert twice_states == once_states


@settings(max_examples=100, deadline=None)
@given(events())
def test_state_round_trips_through_bytes_after_every_event(stream: list[Event]) -> None:
    states: dict[str, BorrowerState] = {}
    for event in stream:
        state, _ = MONITOR.process(states.get(event.borrower_id), event)
        assert BorrowerState.from_bytes(state.to_bytes()) == state
        states[event.borrower_id] = BorrowerState.from_bytes(state.to_bytes())


@settings(max_examples=100, deadline=None)
@given(events())
def test_events_round_trip_through_the_contract(stream: list[Event]) -> None:
    for event in stream:
        assert parse_event(event_to_dict(event)) == event
