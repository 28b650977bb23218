"""Monitor: duplicates, first tiers, anomaly feature, borrower checks, features."""

from __future__ import annotations

import pytest

from detectors.engine import Monitor
from detectors.events import Event
from detectors.features import feature_dict
from detectors.policy import load_policy
from tests.unit.detectors.scenario import Timeline, run


def test_a_repeated_event_changes_nothing() -> None:
    t = Timeline()
    event = t.repayment(0, paid=0.0, dpd=40)
    monitor = Monitor(load_policy())
    state, first = monitor.process(None, event)
    before = state.to_bytes()
    again, repeat = monitor.process(state, event)
    assert again.to_bytes() == before
    assert repeat.duplicate and repeat.alerts == () and repeat.tier_change is None
    assert (repeat.tier, repeat.reasons) == (first.tier, first.reasons)


def test_first_decision_is_a_tier_change_from_none() -> None:
    _, decisions = run([Timeline().contact(0)])
    change = decisions[0].tier_change
    assert change is not None and change.previous_tier is None and change.tier == "A"
    assert decisions[0].policy_version == "default-2024.1"
    assert decisions[0].model_version == "scorecard:default-2024.1"


def test_state_of_another_borrower_is_refused() -> None:
    monitor = Monitor(load_policy())
    state, _ = monitor.process(None, Timeline("b1").contact(0))
    with pytest.raises(ValueError, match="b2"):
        monitor.process(state, Timeline("b2").contact(0))


class _Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def score_one(self, features: list[float]) -> float:
        return self.value


def test_anomaly_scorer_feeds_w_anomaly() -> None:
    _, decisions = run([Timeline().contact(0)], anomaly=_Fixed(0.95))
    assert feature_dict(decisions[0].features)["anomaly_score"] == 0.95
    assert "W_ANOMALY" in decisions[0].reasons


class _Constant:
    version = "const-1"

    def score(self, features: list[float]) -> float:
        return 0.7


def test_a_custom_scorer_sets_score_band_and_model_version() -> None:
    _, decisions = run([Timeline().contact(0)], scorer=_Constant())
    assert decisions[0].tier == "D" and decisions[0].reasons == ("SCORE_D",)
    assert decisions[0].model_version == "const-1"


def test_features_from_a_history() -> None:
    t = Timeline()
    events: list[Event] = [
        t.repayment(0, paid=5.0, dpd=3, third_party=True),  # partial, late, third party
        t.borrowing(10, "x", "bank", amount=2000.0),
        t.borrowing(12, "y", "bnpl", amount=None, inquiry=True, overdue=4),
        t.contact(13, "no_answer"),
        t.contact(15, "powered_off"),
    ]
    _, decisions = run(events)
    f = feature_dict(decisions[-1].features)
    assert f["dpd_current"] == 3 and f["late_3m"] == 1 and f["partial_payments_90d"] == 1
    assert f["third_party_payments_90d"] == 1 and f["payment_ratio"] == 0.05
    assert f["new_loans_30d"] == 1 and f["new_loan_amount_30d"] == 2000.0
    assert f["new_debt_to_limit_30d"] == 2.0 and f["inquiries_30d"] == 1
    assert f["overdue_elsewhere_small_days"] == 4 and f["lender_types_90d"] == 1
    assert f["failed_contacts"] == 2 and f["days_failing"] == 2.0
    assert f["days_since_contact"] == 15.0 and f["contact_known"] == 1
    assert decisions[-1].reasons[:2] == ("S_OVERDUE_ELSEWHERE", "S_LARGE_NEW_DEBT")
