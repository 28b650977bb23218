"""Backtest figures from hand-made streams: lead time, share flagged, tiers, compare."""

from __future__ import annotations

from datetime import UTC, datetime

from detectors.backtest import Collector, compare
from detectors.engine import Monitor
from detectors.events import ContactStatus, Event, Repayment
from detectors.policy import load_policy
from detectors.simulation import Outcome, Simulation
from detectors.state import BorrowerState


def at(month: int, day: int = 1) -> datetime:
    return datetime(2024, month, day, 9, tzinfo=UTC)


def repayment(borrower: str, when: datetime, dpd: int, n: int) -> Repayment:
    return Repayment(f"{borrower}-{n}", borrower, when, "L1", when.date(), 100.0,
                     0.0 if dpd else 100.0, dpd)  # fmt: skip


def run(events: list[Event], truth: dict[str, Outcome] | None) -> Collector:
    monitor, collector = Monitor(load_policy()), Collector(truth)
    states: dict[str, BorrowerState] = {}
    for event in sorted(events, key=lambda e: e.occurred_at):
        states[event.borrower_id], decision = monitor.process(states.get(event.borrower_id), event)
        collector(event, decision)
    return collector


EVENTS: list[Event] = [
    repayment("b1", at(2), 0, 1),
    repayment("b1", at(3), 35, 2),  # D on March 1st, a month before going bad
    repayment("b1", at(4), 65, 3),
    ContactStatus("b2-1", "b2", at(2, 5), "phone", "reachable"),
    repayment("b3", at(5), 40, 1),  # its first event is the one that makes it bad
]
TRUTH = {
    "b1": Outcome("b1", "deterioration", at(4)),
    "b2": Outcome("b2", "steady", None),
    "b3": Outcome("b3", "shock", at(5)),
}


def test_share_flagged_and_lead_time() -> None:
    figures = run(EVENTS, TRUTH).figures()
    truth = figures["truth"]
    assert truth["bad_borrowers"] == 2
    assert truth["flagged_before_bad"] == 1
    assert truth["share_flagged_before_bad"] == 0.5
    assert truth["median_lead_days"] == 31.0  # March 1st to April 1st
    assert truth["flagged_share_by_archetype"] == {"deterioration": 1.0, "shock": 0.0}
    # b3 has no decision before going bad: not in the worst-tier figures
    assert truth["borrowers_by_worst_tier"] == {"A": 1, "B": 0, "C": 0, "D": 1}
    assert truth["bad_rate_by_worst_tier"]["D"] == 1.0


def test_tier_counts_mix_and_transitions() -> None:
    figures = run(EVENTS, TRUTH).figures()
    assert figures["tier_counts"] == {"A": 1, "B": 0, "C": 0, "D": 2}
    assert [row["month"] for row in figures["tier_mix"]] == ["2024-02", "2024-03", "2024-04",
                                                             "2024-05"]  # fmt: skip
    assert figures["tier_mix"][0] == {"month": "2024-02", "A": 2, "B": 0, "C": 0, "D": 0}
    assert figures["transitions"]["new"]["A"] == 2
    assert figures["transitions"]["A"]["D"] == 1
    assert figures["alerts_by_queue"]["collections.immediate"] >= 2
    assert "S_DPD_30" in figures["alerts_by_reason"]


def test_without_truth_no_truth_figures() -> None:
    assert "truth" not in run(EVENTS, None).figures()


def test_compare_a_policy_with_itself_changes_nothing() -> None:
    sim = Simulation(borrowers=80, seed=4)
    events = list(sim.events())
    one, two = run(events, sim.outcomes), run(events, sim.outcomes)
    diff = compare(one, two, sim.outcomes)
    assert diff["borrowers_changed"] == diff["alerts_only_in_a"] == diff["alerts_only_in_b"] == 0
    assert diff["examples"] == []


def test_compare_counts_borrowers_and_alerts_that_change() -> None:
    quiet = [e for e in EVENTS if e.borrower_id != "b1" or e.event_id == "b1-1"]
    diff = compare(run(EVENTS, TRUTH), run(quiet, TRUTH), TRUTH)
    assert diff["borrowers_changed"] == 1
    assert diff["final_tier_moves"] == {"D->A": 1}
    assert diff["alerts_only_in_a"] >= 2 and diff["alerts_only_in_b"] == 0
    assert diff["examples"][0]["borrower_id"] == "b1"
    assert diff["examples"][0]["archetype"] == "deterioration"


def test_most_simulated_bad_borrowers_reach_c_or_d_first() -> None:
    sim = Simulation(borrowers=600, seed=42)
    truth = run(list(sim.events()), sim.outcomes).figures()["truth"]
    assert truth["share_flagged_before_bad"] > 0.75
    assert 20 < truth["median_lead_days"] < 120
