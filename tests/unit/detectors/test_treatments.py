"""Treatments per tier and contact status, alert ids, and suppression windows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from detectors.decision import alert_id
from detectors.events import ContactStatus
from detectors.features import feature_vector
from detectors.policy import load_policy
from detectors.state import BorrowerState
from detectors.treatments import Treatments, situation

QUIET = feature_vector({})
AT = datetime(2024, 3, 1, tzinfo=UTC)


def _event(event_id: str, borrower_id: str, at: datetime) -> ContactStatus:
    """An event for the alerts to cite (which kind does not matter to the treatments)."""
    return ContactStatus(event_id, borrower_id, at, "sms", "no_answer")


@pytest.mark.parametrize(
    ("tier", "features", "reasons", "expected"),
    [
        ("D", {}, ("S_DPD_30",), "D"),
        ("C", {"contact_known": 1.0, "last_contact_reachable": 1.0}, (), "C_reachable"),
        ("C", {"contact_known": 1.0, "last_contact_reachable": 0.0}, (), "C_unreachable"),
        ("C", {}, (), "C_unknown"),
        ("B", {}, ("W_LATE_1_29",), "B"),
        ("A", {"utilisation": 0.8}, (), "A_eligible"),
        ("A", {"utilisation": 0.5}, (), "A"),
        ("A", {"utilisation": 0.8, "late_12m": 1.0}, (), "A"),
        ("A", {"utilisation": 0.8}, ("P_PROBATION_PASSED",), "A"),
    ],
)
def test_situation(
    tier: str, features: dict[str, float], reasons: tuple[str, ...], expected: str
) -> None:
    assert situation(tier, feature_vector(features), reasons, 0.7) == expected


def _alerts(treat: Treatments, state: BorrowerState, event: str, hours: float, tier: str,
            reasons: tuple[str, ...] = ("S_DPD_30",), **features: float) -> list[str]:  # fmt: skip
    at = AT + timedelta(hours=hours)
    state.now = max(state.now, at.timestamp())
    cause = _event(event, state.borrower_id, at)
    vector = feature_vector(features)
    return [a.treatment for a in treat.alerts(state, cause, tier, reasons, vector)]


def test_d_means_immediate_collections_and_a_limit_freeze_or_cut() -> None:
    state = BorrowerState("b1")
    event = _event("e1", "b1", AT)
    alerts = Treatments(load_policy()).alerts(state, event, "D", ("S_DPD_30",), QUIET)
    assert [(a.queue, a.severity, a.treatment) for a in alerts] == [
        ("collections.immediate", "critical", "call_now"),
        ("credit.limit_review", "high", "freeze_or_cut_limit"),
    ]
    assert alerts[0].alert_id == alert_id("b1", "collections.immediate", "e1")
    assert alerts[0].cause_event_id == "e1" and alerts[0].reasons == ("S_DPD_30",)


def test_c_reachable_gets_fee_relief_unreachable_gets_ivr_and_checks() -> None:
    treat = Treatments(load_policy())
    reachable = _alerts(treat, BorrowerState("b1"), "e1", 0, "C", contact_known=1.0,
                        last_contact_reachable=1.0)  # fmt: skip
    unreachable = _alerts(treat, BorrowerState("b2"), "e1", 0, "C", contact_known=1.0)
    assert reachable == ["offer_fee_relief_for_early_repayment"]
    assert unreachable == ["ivr_sms_reminder_bot", "repeat_contact_check"]


def test_same_alert_is_suppressed_inside_its_window_and_repeated_after() -> None:
    treat, state = Treatments(load_policy()), BorrowerState("b1")
    assert _alerts(treat, state, "e1", 0, "D") == ["call_now", "freeze_or_cut_limit"]
    assert _alerts(treat, state, "e2", 100, "D") == []
    # collections.immediate uses the 168 h default; credit.limit_review has 720 h.
    assert _alerts(treat, state, "e3", 170, "D") == ["call_now"]
    assert _alerts(treat, state, "e4", 721, "D") == ["call_now", "freeze_or_cut_limit"]


def test_a_late_event_inside_the_window_is_also_suppressed() -> None:
    treat, state = Treatments(load_policy()), BorrowerState("b1")
    _alerts(treat, state, "e1", 100, "D")
    assert _alerts(treat, state, "e0", 50, "D") == []


def test_by_reasons_alerts_again_when_the_reasons_change() -> None:
    policy = dataclasses.replace(load_policy(), suppression_by="treatment_and_reasons")
    treat, state = Treatments(policy), BorrowerState("b1")
    _alerts(treat, state, "e1", 0, "D", ("S_DPD_30",))
    assert _alerts(treat, state, "e2", 1, "D", ("S_DPD_30",)) == []
    assert _alerts(treat, state, "e3", 2, "D", ("S_DPD_30", "S_CONTACT_LOST")) != []


def test_suppression_state_forgets_expired_windows() -> None:
    treat, state = Treatments(load_policy()), BorrowerState("b1")
    _alerts(treat, state, "e1", 0, "D")
    _alerts(treat, state, "e2", 24 * 365, "B", ())
    assert state.alerts_sent == {}
