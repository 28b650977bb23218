"""Tiering from the evidence, hysteresis (worsen at once, improve after probation, one step)."""

from __future__ import annotations

import dataclasses

from detectors.features import feature_vector
from detectors.policy import default_policy_data, load_policy, parse_policy
from detectors.state import DAY, BorrowerState
from detectors.tiering import PROBATION, PROBATION_PASSED, Evidence, Tiering
from tests.unit.detectors.scenario import Timeline, run

QUIET = feature_vector({})
TIERING = Tiering(load_policy())


def test_weak_rules_escalate_by_count() -> None:
    one = feature_vector({"dpd_current": 5.0})
    three = feature_vector(
        {"dpd_current": 5.0, "partial_payments_90d": 1.0, "third_party_payments_90d": 1.0}
    )
    assert TIERING.assess(QUIET, 0.0) == Evidence("A", ())
    assert TIERING.assess(one, 0.0) == Evidence("B", ("W_LATE_1_29",))
    assert TIERING.assess(three, 0.0).tier == "C"


def test_strong_rules_reach_their_tier_and_come_first_most_severe_first() -> None:
    features = feature_vector(
        {"distinct_lenders_30d": 3.0, "dpd_current": 40.0, "utilisation": 0.95}
    )
    evidence = TIERING.assess(features, 0.0)
    assert evidence.tier == "D"
    assert evidence.reasons == ("S_DPD_30", "S_MULTI_LENDER_BURST", "W_HIGH_UTILISATION")


def test_score_bands_give_the_highest_band_reached() -> None:
    assert TIERING.assess(QUIET, 0.1) == Evidence("B", ("SCORE_B",))
    assert TIERING.assess(QUIET, 0.3) == Evidence("C", ("SCORE_C",))
    assert TIERING.assess(QUIET, 0.99) == Evidence("D", ("SCORE_D",))


def test_disabled_rule_never_fires() -> None:
    data = default_policy_data()
    data["rules"]["dpd_30"]["enabled"] = False
    tiering = Tiering(parse_policy(data))
    assert "S_DPD_30" not in tiering.assess(feature_vector({"dpd_current": 90.0}), 0.0).reasons


def _state(tier: str, now_days: float, trigger_days: float) -> BorrowerState:
    state = BorrowerState("b1", tier=tier)
    state.now, state.last_trigger = now_days * DAY, trigger_days * DAY
    return state


def test_worsening_is_immediate_even_during_probation() -> None:
    state = _state("B", 10, 0)
    state.clean_cycles = 2
    assert TIERING.settle(state, Evidence("D", ("S_DPD_30",)), cycle=True) == ("D", ("S_DPD_30",))
    assert state.clean_cycles == 0 and state.last_trigger == 10 * DAY


def test_improvement_waits_for_clean_cycles_then_moves_one_step() -> None:
    state = _state("D", 1, 0)
    for _ in range(2):
        assert TIERING.settle(state, Evidence("A", ()), cycle=True) == ("D", (PROBATION,))
    assert TIERING.settle(state, Evidence("A", ()), cycle=True) == ("C", (PROBATION_PASSED,))
    assert state.clean_cycles == 0


def test_non_repayment_events_do_not_count_as_cycles_but_days_do() -> None:
    state = _state("C", 89, 0)
    for _ in range(5):
        assert TIERING.settle(state, Evidence("A", ()), cycle=False)[0] == "C"
    state.now = 90 * DAY
    assert TIERING.settle(state, Evidence("A", ()), cycle=False) == ("B", (PROBATION_PASSED,))


def test_evidence_at_the_current_tier_restarts_probation() -> None:
    state = _state("C", 80, 0)
    state.clean_cycles = 2
    TIERING.settle(state, Evidence("C", ("S_CONTACT_LOST",)), cycle=True)
    assert state.clean_cycles == 0 and state.last_trigger == 80 * DAY


def test_probation_policy_is_honoured_end_to_end() -> None:
    policy = dataclasses.replace(load_policy(), probation_cycles=1, probation_days=365.0)
    t = Timeline()
    _, decisions = run(
        [t.repayment(0, paid=0.0, dpd=40), t.repayment(30), t.repayment(60), t.repayment(90)],
        policy,
    )
    assert [d.tier for d in decisions] == ["D", "C", "B", "A"]
