"""The engine with an encoder: snapshots on repayments, matured outcomes on decisions.

Seeded monthly streams for several borrowers, some going 30+ days past due, are replayed
through ``Monitor(policy, scorer=hub, encoder=hub.encoder)``; every outcome is checked
against the outcome the borrower's own history dictates.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from detectors.decision import Decision
from detectors.engine import Monitor
from detectors.events import Event, Repayment
from detectors.features import feature_dict
from detectors.models.hub import ModelHub
from detectors.models.outcomes import Outcome
from detectors.policy import load_policy
from detectors.scoring import Scorecard
from detectors.state import BorrowerState
from tests.unit.detectors.scenario import T0, Timeline

POLICY = load_policy()
RULE = POLICY.models.outcomes
HORIZON = RULE.horizon.total_seconds()
Key = tuple[str, float]  # (borrower, taken_at)


def _stream(seed: int, borrowers: int = 8, cycles: int = 13) -> list[Event]:
    """Monthly-ish repayments (20 to 35 days apart) on one loan, contacts in between, a few
    exact duplicates; half the borrowers are risky and now and then 30+ days past due."""
    rng = random.Random(seed)
    events: list[Event] = []
    for b in range(borrowers):
        t = Timeline(f"b{b}")
        risky = b % 2 == 1
        day = float(rng.randint(0, 20))
        for _ in range(cycles):
            dpd = rng.choice([0, 0, 5, 31, 45, 75] if risky else [0, 0, 0, 3])
            event = t.repayment(day, paid=0.0 if dpd else None, dpd=dpd)
            events.append(event)
            if rng.random() < 0.1:
                events.append(event)  # redelivered
            if rng.random() < 0.4:
                events.append(t.contact(day + rng.randint(1, 15), "no_answer"))
            day += rng.randint(20, 35)
    events.sort(key=lambda e: e.occurred_at)  # stable: one borrower's events keep their order
    return events


def _hub() -> ModelHub:
    policy = POLICY
    return ModelHub.default(
        Scorecard.from_policy(policy), blend=policy.models.blend, promotion=policy.models.promotion
    )


@dataclass
class Replay:
    decisions: list[Decision]
    pending_sizes: list[int]
    pending_after: list[set[float]]
    final: dict[str, BorrowerState]
    hub: ModelHub


def _dpd(decision: Decision) -> float:
    """The borrower's days past due in the decision's features."""
    return feature_dict(decision.features)["dpd_current"]


def _replay(events: list[Event], through_bytes: bool = False) -> Replay:
    hub = _hub()
    monitor = Monitor(POLICY, scorer=hub, encoder=hub.encoder)
    states: dict[str, BorrowerState] = {}
    decisions, sizes, after = [], [], []
    for event in events:
        state, decision = monitor.process(states.get(event.borrower_id), event)
        if through_bytes:
            state = BorrowerState.from_bytes(state.to_bytes())
        states[event.borrower_id] = state
        for outcome in decision.outcomes:
            hub.learn(outcome)
        decisions.append(decision)
        sizes.append(len(state.pending))
        after.append({s.taken_at for s in state.pending})
    return Replay(decisions, sizes, after, states, hub)


def _matured(replay: Replay) -> list[tuple[Key, Outcome, Decision]]:
    return [
        ((d.borrower_id, o.snapshot.taken_at), o, d) for d in replay.decisions for o in d.outcomes
    ]


def _expected(events: list[Event]) -> dict[Key, tuple[str, int]]:
    """For an in-order stream on one loan: the event that decides each snapshot, and how.

    The borrower's dpd at an event is the last repayment's (on or before it); a snapshot is
    bad at the first later event within the horizon showing bad_dpd+, good at the first
    event at or past the horizon if none did."""
    unique = list({e.event_id: e for e in events}.values())  # duplicates are ignored
    expected: dict[Key, tuple[str, int]] = {}
    for b in {e.borrower_id for e in unique}:
        own = [e for e in unique if e.borrower_id == b]
        dpd_at, dpd = [], 0
        for e in own:
            if isinstance(e, Repayment):
                dpd = e.days_past_due
            dpd_at.append(dpd)
        for i, snap in enumerate(own):
            if not isinstance(snap, Repayment):
                continue
            taken = snap.occurred_at.timestamp()
            for j in range(i + 1, len(own)):
                age = own[j].occurred_at.timestamp() - taken
                if age <= 0:
                    continue
                if dpd_at[j] >= RULE.bad_dpd and age <= HORIZON:
                    expected[(b, taken)] = (own[j].event_id, 1)
                    break
                if age >= HORIZON:
                    expected[(b, taken)] = (own[j].event_id, 0)
                    break
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_outcome_is_the_one_the_history_dictates_exactly_once(seed: int) -> None:
    events = _stream(seed)
    replay = _replay(events)
    matured = _matured(replay)
    counts = Counter(key for key, _, _ in matured)
    assert counts and max(counts.values()) == 1, "a snapshot matured more than once"
    labels = Counter(o.label for _, o, _ in matured)
    assert labels[0] > 20 and labels[1] > 10, f"the stream must exercise both labels: {labels}"

    snapshots = {
        (d.borrower_id, d.occurred_at.timestamp()): d
        for d, e in zip(replay.decisions, events, strict=True)
        if isinstance(e, Repayment) and not d.duplicate
    }
    for key, outcome, decision in matured:
        assert key in snapshots, "an outcome for a snapshot that was never taken"
        age = decision.occurred_at.timestamp() - outcome.snapshot.taken_at
        assert age > 0, "never matured by an event at or before the snapshot"
        if outcome.label == 1:
            assert _dpd(decision) >= RULE.bad_dpd and age <= HORIZON
            assert outcome.matured_at == decision.occurred_at.timestamp()
        else:
            assert age >= HORIZON
            assert outcome.matured_at == outcome.snapshot.taken_at + HORIZON
        # The features learned are the model inputs at scoring time, not at maturity.
        assert outcome.features == replay.hub.encoder.encode(snapshots[key].features)

    # Exactly the expected deciding event and label, unless the bounded list dropped it.
    expected = _expected(events)
    by_key = {key: (d.event_id, o.label) for key, o, d in matured}
    final_pending = {(b, s.taken_at) for b, st in replay.final.items() for s in st.pending}
    for key in snapshots:
        if key in by_key:
            assert by_key[key] == expected.get(key), key
        elif key not in final_pending:
            continue  # dropped unlabelled when the borrower's list was full
        else:
            assert key not in expected, f"{key} should have matured at {expected.get(key)}"
    dropped = set(snapshots) - set(by_key) - final_pending
    assert len(dropped) < len(snapshots) // 4
    assert all(d.outcomes == () for d in replay.decisions if d.duplicate)


@pytest.mark.parametrize("seed", [1, 2])
def test_pending_per_borrower_never_exceeds_max_pending(seed: int) -> None:
    # Repayments every 5 to 15 days overfill the list within one horizon.
    rng = random.Random(seed)
    t = Timeline("busy")
    events: list[Event] = []
    day = 0.0
    for _ in range(40):
        events.append(t.repayment(day))
        day += rng.randint(5, 15)
    replay = _replay(events)
    assert max(replay.pending_sizes) == RULE.max_pending
    assert all(size <= RULE.max_pending for size in replay.pending_sizes)
    # The dropped snapshots are the oldest, never mislabelled: only the kept ones mature.
    for decision, kept_before in zip(replay.decisions[1:], replay.pending_after, strict=False):
        assert {o.snapshot.taken_at for o in decision.outcomes} <= kept_before


def test_learning_happens_once_per_matured_outcome() -> None:
    replay = _replay(_stream(4))
    total = sum(len(d.outcomes) for d in replay.decisions)
    assert total > 0
    assert replay.hub.arena.outcomes == total
    assert [m.trained for m in replay.hub.arena.models] == [total, total]


def test_pending_snapshots_survive_the_state_bytes() -> None:
    events = _stream(5, borrowers=4)
    direct = _replay(events)
    stored = _replay(events, through_bytes=True)
    assert [d.outcomes for d in stored.decisions] == [d.outcomes for d in direct.decisions]
    assert sum(len(d.outcomes) for d in direct.decisions) > 0


def test_without_an_encoder_nothing_is_kept_or_matured() -> None:
    monitor = Monitor(POLICY)
    states: dict[str, BorrowerState] = {}
    for event in _stream(6, borrowers=2):
        state, decision = monitor.process(states.get(event.borrower_id), event)
        states[event.borrower_id] = state
        assert decision.outcomes == () and state.pending == ()


# --- late arrivals ---


def _late(events: list[Event], seed: int) -> list[Event]:
    """The same events, borrower by borrower, with about one in five of each borrower's
    events delivered after the next one to three of that borrower's events."""
    rng = random.Random(seed)
    out: list[Event] = []
    for b in sorted({e.borrower_id for e in events}):
        own = [e for e in events if e.borrower_id == b]
        for i in range(len(own) - 4, -1, -1):
            if rng.random() < 1 / 5:
                own.insert(i + rng.randint(1, 3), own.pop(i))
        out.extend(own)
    return out


@pytest.mark.parametrize("seed", [7, 8])
def test_late_arrivals_never_mature_a_newer_snapshot_nor_twice(seed: int) -> None:
    events = _late(_stream(seed), seed)
    late = sum(
        1
        for i, e in enumerate(events)
        if any(o.borrower_id == e.borrower_id and o.occurred_at > e.occurred_at for o in events[:i])
    )
    assert late > 10, "the stream must carry late arrivals"
    replay = _replay(events)
    matured = _matured(replay)
    assert matured and max(Counter(key for key, _, _ in matured).values()) == 1
    by_id = {e.event_id: e for e in events}
    for _, outcome, decision in matured:
        age = decision.occurred_at.timestamp() - outcome.snapshot.taken_at
        assert age > 0, "a late event older than the snapshot matured it"
        if outcome.label == 1:
            # Bad on the event's own report, or on the borrower's current position.
            event = by_id[decision.event_id]
            reported = event.days_past_due if isinstance(event, Repayment) else 0
            assert max(reported, _dpd(decision)) >= RULE.bad_dpd
            assert age <= HORIZON
        else:
            assert age >= HORIZON
    assert all(size <= RULE.max_pending for size in replay.pending_sizes)


def _process(events: list[Event]) -> tuple[list[Decision], BorrowerState]:
    hub = _hub()
    monitor = Monitor(POLICY, scorer=hub, encoder=hub.encoder)
    state = None
    decisions = []
    for event in events:
        state, decision = monitor.process(state, event)
        decisions.append(decision)
    assert state is not None
    return decisions, state


def test_a_late_bad_event_matures_only_the_snapshots_before_it() -> None:
    t = Timeline()
    events: list[Event] = [
        t.repayment(0), t.repayment(30), t.repayment(60),
        t.repayment(45, loan="L2", paid=0.0, dpd=40),  # arrives after day 60
    ]  # fmt: skip
    decisions, state = _process(events)
    assert all(d.outcomes == () for d in decisions[:3])
    assert sorted((o.snapshot.taken_at, o.label) for o in decisions[3].outcomes) == [
        (t.at(0).timestamp(), 1), (t.at(30).timestamp(), 1)
    ]  # fmt: skip
    # Day 60 is newer than the late event: it is still waiting.
    assert t.at(60).timestamp() in [s.taken_at for s in state.pending]


def test_a_late_bad_report_on_the_same_loan_makes_the_snapshot_bad() -> None:
    t = Timeline()
    events: list[Event] = [
        t.repayment(0), t.repayment(30),
        t.repayment(20, paid=0.0, dpd=35),  # late: 35 days past due 20 days after day 0
        t.repayment(95), t.repayment(125),
    ]  # fmt: skip
    decisions, _ = _process(events)
    labels = {o.snapshot.taken_at: o.label for d in decisions for o in d.outcomes}
    assert labels[t.at(0).timestamp()] == 1


def _arrears_elsewhere(follow_up: Callable[[Timeline], Event]) -> dict[float, int]:
    """L2 is 45 days past due on day 0, L1 current on day 1, ``follow_up`` on day 11, and L1
    current again on day 100, past the horizon of the day-0 snapshot."""
    t = Timeline()
    events: list[Event] = [t.repayment(0, loan="L2", paid=0.0, dpd=45), t.repayment(1, loan="L1")]
    events += [follow_up(t), t.repayment(100, loan="L1")]
    decisions, _ = _process(events)
    # The borrower's position says 45 days past due at every event.
    assert all(_dpd(d) == 45 for d in decisions)
    return {o.snapshot.taken_at: o.label for d in decisions for o in d.outcomes}


def test_arrears_on_another_loan_make_the_snapshot_bad_at_a_contact() -> None:
    assert _arrears_elsewhere(lambda t: t.contact(11, "no_answer"))[T0.timestamp()] == 1


def test_arrears_on_another_loan_make_the_snapshot_bad_at_a_repayment() -> None:
    assert _arrears_elsewhere(lambda t: t.repayment(11, loan="L1"))[T0.timestamp()] == 1


def test_a_late_snapshot_is_not_labelled_good_over_a_bad_report_in_its_horizon() -> None:
    t = Timeline()
    events: list[Event] = [
        t.repayment(0), t.repayment(60, paid=0.0, dpd=45), t.repayment(90),
        t.repayment(40),  # late: its snapshot is stamped day 40, 20 days before the 45 dpd
        t.repayment(130), t.repayment(200),
    ]  # fmt: skip
    decisions, _ = _process(events)
    bad_reports = [
        e.occurred_at.timestamp()
        for e in events
        if isinstance(e, Repayment) and e.days_past_due >= RULE.bad_dpd
    ]
    for decision in decisions:
        for outcome in decision.outcomes:
            if outcome.label == 0:
                taken = outcome.snapshot.taken_at
                assert not [r for r in bad_reports if taken < r <= taken + HORIZON], taken
