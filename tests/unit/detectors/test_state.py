"""Borrower state: bytes round trip, format dispatch, bounded memory, late events by time."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from detectors.events import Event
from detectors.features import compute_features, feature_dict
from detectors.models.outcomes import Snapshot
from detectors.state import (
    CONTACT_HISTORY,
    DAY,
    RECENT_DECISIONS,
    BorrowerState,
    StateFormatError,
)
from tests.unit.detectors.scenario import Timeline, run


def _busy_state() -> BorrowerState:
    t = Timeline()
    events: list[Event] = [
        t.repayment(0, paid=10.0), t.borrowing(3, "m1"), t.contact(4, "no_answer"),
        t.repayment(30, paid=0.0, dpd=31), t.contact(35, "number_invalid"),
    ]  # fmt: skip
    state, _ = run(events)
    assert state is not None
    return state


def test_round_trip_through_bytes() -> None:
    state = _busy_state()
    state.pending = (
        Snapshot.of(86400.0, (0.0, 2.5, 0.0)),
        Snapshot.of(2 * 86400.0, (1.0, 0.0, 0.0)),
    )
    data = state.to_bytes()
    assert data[0] == 3
    assert BorrowerState.from_bytes(data) == state
    assert BorrowerState.from_bytes(data).to_bytes() == data


# Steps on one borrower's state: a repayment at a day (late ones included), the clock moved
# to a day (pruning what fell out of the windows), a decision recorded, the state written, or
# the state read back from its bytes.
_steps = st.lists(st.one_of(
    st.tuples(st.just("repay"), st.integers(0, 800)),
    st.tuples(st.just("advance"), st.integers(0, 800)),
    st.tuples(st.just("decide"), st.floats(0.0, 1.0)),
    st.tuples(st.just("write"), st.none()),
    st.tuples(st.just("read"), st.none()),
), max_size=40)  # fmt: skip


@given(_steps)
@example([("write", None), *[("decide", 0.5)] * (RECENT_DECISIONS + 1), ("repay", 10),
          ("repay", 5), ("advance", 800), ("write", None)])  # fmt: skip
def test_the_rows_a_state_keeps_as_json_are_the_rows_it_has(steps: list[tuple[str, Any]]) -> None:
    state = BorrowerState("b1")

    def written_as_plain_json() -> None:
        body = orjson.loads(state.to_bytes()[1:])
        assert body[4] == orjson.loads(orjson.dumps(state.repayments))
        assert body[16] == orjson.loads(orjson.dumps(state.recent))

    for number, (step, value) in enumerate(steps):
        if step == "repay":
            state.add_repayment((value * DAY, number, 1.0, 2.0, 0), f"L{number % 3}", None, None)
        elif step == "advance":
            state.advance(value * DAY)
        elif step == "decide":
            state.record_decision((f"e{number}", float(number), "A", "B", ("W_X",), value,
                                   "m", "p", (("q", "high", "call"),)))  # fmt: skip
        elif step == "write":
            written_as_plain_json()
        else:
            state = BorrowerState.from_bytes(state.to_bytes())
    written_as_plain_json()
    assert len(state.recent) == min(RECENT_DECISIONS, sum(s == "decide" for s, _ in steps))


def test_unknown_or_corrupt_formats_are_refused() -> None:
    with pytest.raises(StateFormatError, match="format 9"):
        BorrowerState.from_bytes(b"\x09[]")
    with pytest.raises(StateFormatError, match="corrupt"):
        BorrowerState.from_bytes(b"\x01[1, 2]")
    with pytest.raises(StateFormatError, match="empty"):
        BorrowerState.from_bytes(b"")


def test_version_1_bytes_written_today_stay_readable() -> None:
    # A fixed v1 payload: a later release must keep reading it (add a decoder, keep this one).
    v1 = (b'\x01["b9",86400.0,0.0,["e1"],[[86400.0,3,5.0,10.0,2]],{"L1":[86400.0,3,0.0,0.0]},'
          b'[],[],null,"B",["W_LATE_1_29"],0.05,0,86400.0,{}]')  # fmt: skip
    state = BorrowerState.from_bytes(v1)
    assert state.tier == "B" and state.repayments == [(86400.0, 3, 5.0, 10.0, 2)]
    assert state.pending == ()
    rewritten = state.to_bytes()
    assert rewritten[0] == 3 and BorrowerState.from_bytes(rewritten) == state


def test_version_2_bytes_written_today_stay_readable() -> None:
    # A fixed v2 payload, snapshots as (index, value) pairs: it must keep loading as it did.
    v2 = (b'\x02["b9",86400.0,86400.0,["e1"],[],{},[],[],null,"B",["W_LATE_1_29"],0.05,0,0.0,'
          b'{},[[86400.0,4,[[0,2.0],[3,0.5]]]],[["e1",86400.0,null,"B",["W_LATE_1_29"],0.05,'
          b'"m1","p1",[["collections.soft","low","sms"]]]]]')  # fmt: skip
    state = BorrowerState.from_bytes(v2)
    assert state.pending == (Snapshot(86400.0, 4, (0, 3), (2.0, 0.5)),)
    assert state.recent == [("e1", 86400.0, None, "B", ("W_LATE_1_29",), 0.05, "m1", "p1",
                             (("collections.soft", "low", "sms"),))]  # fmt: skip
    rewritten = state.to_bytes()
    assert rewritten[0] == 3 and b"[86400.0,4,[0,3],[2.0,0.5]]" in rewritten
    assert BorrowerState.from_bytes(rewritten) == state


def test_a_snapshot_with_more_indices_than_values_is_corrupt() -> None:
    state = BorrowerState("b1", pending=(Snapshot(5.0, 4, (0, 3), (2.0, 0.5)),))
    data = state.to_bytes().replace(b"[2.0,0.5]", b"[2.0]")
    with pytest.raises(StateFormatError, match="2 input indices but 1 values"):
        BorrowerState.from_bytes(data)


def test_dedup_memory_is_bounded() -> None:
    state = BorrowerState("b1")
    for n in range(500):
        state.remember(f"e{n}", dedup_limit=128)
    assert len(state.seen) == 128 and "e499" in state.seen and "e0" not in state.seen


def test_histories_are_pruned_to_their_windows() -> None:
    t = Timeline()
    events: list[Event] = [t.repayment(30 * m) for m in range(30)]
    events += [t.contact(900 + n * 0.01, "no_answer") for n in range(CONTACT_HISTORY + 20)]
    events += [t.borrowing(400, "old")]  # arrives late and outside its 90-day window
    state, _ = run(events)
    assert state is not None
    assert len(state.repayments) <= 13
    assert len(state.contacts) == CONTACT_HISTORY
    assert state.borrowings == []


def test_a_late_event_is_placed_by_event_time() -> None:
    t = Timeline()
    on_time = [t.repayment(0), t.repayment(60, paid=10.0)]
    late = t.repayment(30, paid=10.0)  # arrives last, happened in the middle
    state, decisions = run([*on_time, late])
    assert state is not None
    assert [row[0] for row in state.repayments] == sorted(row[0] for row in state.repayments)
    assert state.now == 60 * DAY + t.at(0).timestamp()
    features = feature_dict(compute_features(state))
    assert features["min_payment_streak"] == 2.0  # the two latest by event time
    last = feature_dict(decisions[-1].features)
    assert last["payment_ratio"] == 0.1  # latest by time, not by arrival
