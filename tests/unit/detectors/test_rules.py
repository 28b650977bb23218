"""Every rule in the catalogue: fires at its threshold, not below it."""

from __future__ import annotations

import pytest

from detectors.features import FEATURE_NAMES
from detectors.policy import load_policy
from detectors.rules import CATALOGUE, Rule
from detectors.rules.anomaly import Anomaly
from detectors.rules.base import rule_params
from detectors.rules.borrowing import (
    CreditInquiries,
    LargeNewDebt,
    MultiLenderBurst,
    OverdueElsewhere,
)
from detectors.rules.contact import ContactLost, FailedContact, NumberInvalid
from detectors.rules.repayment import (
    DaysPastDue30,
    HighUtilisation,
    Late1To29,
    MinimumPaymentStreak,
    PartialPayment,
    ThirdPartyPayment,
)

QUIET = dict.fromkeys(FEATURE_NAMES, 0.0)

# rule, features at the threshold (fires), features just below it (does not fire)
CASES: list[tuple[Rule, dict[str, float], dict[str, float]]] = [
    (DaysPastDue30(min_days=30), {"dpd_current": 30}, {"dpd_current": 29}),
    (
        OverdueElsewhere(min_days=30, min_days_small_loan=1),
        {"overdue_elsewhere_days": 1, "overdue_elsewhere_small_days": 1},
        {"overdue_elsewhere_days": 29},
    ),
    (OverdueElsewhere(min_days=30), {"overdue_elsewhere_days": 30}, {"overdue_elsewhere_days": 29}),
    (NumberInvalid(), {"number_invalid": 1}, {"number_invalid": 0}),
    (
        ContactLost(min_failed=3, min_days=7),
        {"failed_contacts": 3, "days_failing": 7},
        {"failed_contacts": 2, "days_failing": 30},
    ),
    (ContactLost(min_failed=3, min_days=7), {"failed_contacts": 9, "days_failing": 8},
     {"failed_contacts": 9, "days_failing": 6.9}),
    (MultiLenderBurst(min_lenders=3), {"distinct_lenders_30d": 3}, {"distinct_lenders_30d": 2}),
    (
        LargeNewDebt(min_ratio=1.0, min_amount=1000),
        {"new_debt_to_limit_30d": 1.0, "new_loan_amount_30d": 1000},
        {"new_debt_to_limit_30d": 5.0, "new_loan_amount_30d": 999},
    ),
    (Late1To29(), {"dpd_current": 1}, {"dpd_current": 30}),
    (Late1To29(), {"dpd_current": 29}, {"dpd_current": 0}),
    (MinimumPaymentStreak(min_streak=3), {"min_payment_streak": 3}, {"min_payment_streak": 2}),
    (PartialPayment(min_count=1), {"partial_payments_90d": 1}, {"partial_payments_90d": 0}),
    (HighUtilisation(min_utilisation=0.9), {"utilisation": 0.9}, {"utilisation": 0.89}),
    (ThirdPartyPayment(), {"third_party_payments_90d": 1}, {"third_party_payments_90d": 0}),
    (CreditInquiries(min_inquiries=3), {"inquiries_30d": 3}, {"inquiries_30d": 2}),
    (FailedContact(min_failed=1), {"failed_contacts": 1}, {"failed_contacts": 0}),
    (Anomaly(min_score=0.8), {"anomaly_score": 0.8}, {"anomaly_score": 0.79}),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "fires", "quiet"), CASES, ids=lambda v: getattr(v, "code", ""))
def test_rule_fires_at_threshold_only(
    rule: Rule, fires: dict[str, float], quiet: dict[str, float]
) -> None:
    assert rule.fires({**QUIET, **fires})
    assert not rule.fires({**QUIET, **quiet})


def test_every_catalogued_rule_has_a_case_and_is_quiet_on_a_clean_record() -> None:
    tested = {type(rule) for rule, _, _ in CASES}
    assert tested == set(CATALOGUE)
    defaults = load_policy().rules
    for rule_type in CATALOGUE:
        rule = rule_type(**defaults[rule_type.key])
        assert not rule.fires(QUIET), rule.code


def test_codes_are_unique_and_named_by_kind() -> None:
    codes = [rule.code for rule in CATALOGUE]
    assert len(set(codes)) == len(codes)
    for rule in CATALOGUE:
        assert rule.code.startswith("S_" if rule.strong else "W_")
        assert rule.description and rule.__doc__


def test_strong_rules_target_c_or_d_from_policy_and_weak_rules_b() -> None:
    assert DaysPastDue30(tier="C").target_tier == "C"
    assert MultiLenderBurst().target_tier == "C"
    assert FailedContact().target_tier == "B"
    for rule in CATALOGUE:
        names = [p.name for p in rule_params(rule)]
        assert ("tier" in names) == rule.strong
