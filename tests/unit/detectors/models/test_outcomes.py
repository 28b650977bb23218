"""Delayed outcomes: bad within the horizon, good once it passes, exactly once, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.models.outcomes import Outcome, OutcomeRule, Snapshot

T0 = datetime(2024, 1, 1, 9, tzinfo=UTC)
DAY = 86400.0
RULE = OutcomeRule(bad_dpd=30, horizon_days=90, max_pending=4)


def at(day: float) -> float:
    """``day`` days after T0, in POSIX seconds (the event time outcomes work in)."""
    return (T0 + timedelta(days=day)).timestamp()


def snap(moment: float, value: float) -> Snapshot:
    """A one-input snapshot taken at ``moment``."""
    return Snapshot.of(moment, (value,))


def test_nothing_matures_before_the_horizon_without_a_bad_event() -> None:
    pending, _ = RULE.advance((), at(0), 0, snap(at(0), 1.0))
    one_second_short = at(90) - 1.0
    pending, matured = RULE.advance(pending, one_second_short, days_past_due=29)
    assert matured == () and [s.features for s in pending] == [(1.0,)]


def test_good_exactly_at_the_horizon_and_dated_at_the_horizon() -> None:
    pending, _ = RULE.advance((), at(0), 0, snap(at(0), 1.0))
    pending, matured = RULE.advance(pending, at(90), days_past_due=0)
    assert pending == ()
    assert [(o.label, o.features, o.matured_at) for o in matured] == [
        (0, (1.0,), at(90))
    ]


def test_good_matured_late_is_still_dated_at_the_horizon() -> None:
    pending, _ = RULE.advance((), at(0), 0, snap(at(0), 1.0))
    _, matured = RULE.advance(pending, at(400), days_past_due=0)
    assert [(o.label, o.matured_at) for o in matured] == [(0, at(90))]


def test_bad_at_the_last_moment_of_the_horizon_wins_over_good() -> None:
    pending, _ = RULE.advance((), at(0), 0, snap(at(0), 1.0))
    _, matured = RULE.advance(pending, at(90), days_past_due=30)
    assert [(o.label, o.matured_at) for o in matured] == [(1, at(90))]


def test_bad_after_the_horizon_is_not_this_snapshots_outcome() -> None:
    pending, _ = RULE.advance((), at(0), 0, snap(at(0), 1.0))
    _, matured = RULE.advance(pending, at(91), days_past_due=60)
    assert [o.label for o in matured] == [0]


def test_dpd_below_the_bad_definition_is_not_bad() -> None:
    pending, _ = RULE.advance((), at(0), 0, snap(at(0), 1.0))
    pending, matured = RULE.advance(pending, at(10), days_past_due=29)
    assert matured == () and len(pending) == 1
    pending, matured = RULE.advance(pending, at(11), days_past_due=30)
    assert [(o.label, o.matured_at) for o in matured] == [(1, at(11))]


def test_an_event_at_or_before_the_snapshot_cannot_mature_it() -> None:
    pending, _ = RULE.advance((), at(100), 0, snap(at(100), 1.0))
    for moment in (at(100), at(99), at(0), at(-365)):
        pending, matured = RULE.advance(pending, moment, days_past_due=120)
        assert matured == () and len(pending) == 1


def test_a_snapshot_taken_at_a_bad_event_waits_for_the_next_one() -> None:
    pending, matured = RULE.advance((), at(0), 45, snap(at(0), 1.0))
    assert matured == () and len(pending) == 1
    _, matured = RULE.advance(pending, at(1), 45)
    assert [o.label for o in matured] == [1]


def test_full_pending_drops_the_oldest_unlabelled() -> None:
    rule = OutcomeRule(bad_dpd=30, horizon_days=90, max_pending=3)
    pending: tuple[Snapshot, ...] = ()
    for day in range(5):
        pending, matured = rule.advance(pending, at(day), 0, snap(at(day), float(day)))
        assert matured == ()
    assert [s.features for s in pending] == [(2.0,), (3.0,), (4.0,)]
    assert [s.taken_at for s in pending] == [at(d) for d in (2, 3, 4)]


def test_a_late_snapshot_older_than_a_full_list_is_the_one_dropped() -> None:
    rule = OutcomeRule(max_pending=2)
    pending, _ = rule.advance((), at(10), 0, snap(at(10), 10.0))
    pending, _ = rule.advance(pending, at(20), 0, snap(at(20), 20.0))
    pending, matured = rule.advance(pending, at(5), 0, snap(at(5), 5.0))
    assert matured == () and [s.features for s in pending] == [(10.0,), (20.0,)]


def test_several_snapshots_mature_in_one_event_each_once() -> None:
    pending: tuple[Snapshot, ...] = ()
    for day in (0, 30, 60):
        pending, _ = RULE.advance(pending, at(day), 0, snap(at(day), float(day)))
    pending, matured = RULE.advance(pending, at(95), days_past_due=40)
    # day 0: 95 days old, past the horizon -> good; days 30 and 60: bad within it.
    assert sorted((o.features, o.label) for o in matured) == [
        ((0.0,), 0), ((30.0,), 1), ((60.0,), 1)
    ]  # fmt: skip
    assert pending == ()
    _, again = RULE.advance(pending, at(300), days_past_due=90)
    assert again == ()


# --- Hypothesis: arbitrary (possibly out-of-order) event times, dpd and snapshots ---

steps = st.lists(
    st.tuples(
        st.one_of(  # event time in seconds after T0; whole days hit the horizon exactly
            st.integers(0, 400).map(lambda d: d * 86400),
            st.integers(0, 400 * 86400),
        ),
        st.integers(0, 120),  # days past due
        st.booleans(),  # a repayment cycle leaves a snapshot
    ),
    max_size=40,
)
rules = st.builds(
    OutcomeRule,
    bad_dpd=st.integers(1, 90),
    horizon_days=st.integers(1, 120),
    max_pending=st.integers(1, 6),
)


@settings(max_examples=300, deadline=None)
@given(rules, steps)
def test_advance_matures_each_snapshot_once_and_only_when_decided(
    rule: OutcomeRule, events: list[tuple[int, int, bool]]
) -> None:
    horizon = rule.horizon.total_seconds()
    pending: tuple[Snapshot, ...] = ()
    matured_ids: list[float] = []
    for n, (seconds, dpd, snapshot) in enumerate(events):
        stamp = now = T0.timestamp() + seconds
        bad = dpd >= rule.bad_dpd
        before = {s.features[0]: s for s in pending}
        new = (float(n),) if snapshot else None
        pending, matured = rule.advance(pending, now, dpd, new and Snapshot.of(stamp, new))
        after = {s.features[0]: s for s in pending}
        out: dict[float, Outcome] = {o.features[0]: o for o in matured}
        assert len(out) == len(matured)
        for key, outcome in out.items():
            assert key in before, "only a snapshot pending before the event can mature"
            age = stamp - outcome.snapshot.taken_at
            assert age > 0, "never matured by an event at or before the snapshot"
            if outcome.label == 1:
                assert bad and age <= horizon and outcome.matured_at == stamp
            else:
                assert outcome.label == 0
                assert age >= horizon and not (bad and age <= horizon)
                assert outcome.matured_at == outcome.snapshot.taken_at + horizon
        for key, kept in after.items():
            if key in before:
                age = stamp - kept.taken_at
                decided = age > 0 and ((bad and age <= horizon) or age >= horizon)
                assert not decided, "a decidable snapshot must not stay pending"
        if new is not None and new[0] in after:
            assert after[new[0]].taken_at == stamp
        assert len(pending) <= rule.max_pending
        assert [s.taken_at for s in pending] == sorted(s.taken_at for s in pending)
        # Conservation: what went in is kept, matured, or (only when full) dropped oldest.
        entered = set(before) | ({new[0]} if new else set())
        dropped = entered - set(after) - set(out)
        assert set(out) <= entered and not set(out) & set(after)
        if dropped:
            assert new is not None and len(pending) == rule.max_pending
            oldest_kept = min(s.taken_at for s in pending)
            survivors = before | ({new[0]: Snapshot.of(stamp, new)} if new else {})
            assert all(survivors[k].taken_at <= oldest_kept for k in dropped)
        matured_ids.extend(out)
    assert len(matured_ids) == len(set(matured_ids)), "an outcome matured twice"
