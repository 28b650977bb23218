"""The catalogue of rules, in the order reasons are reported within each kind.

>>> [rule.code for rule in CATALOGUE if rule.strong][:2]
['S_OVERDUE_ELSEWHERE', 'S_DPD_30']
>>> len(CATALOGUE)
14
"""

from __future__ import annotations

from detectors.rules.anomaly import Anomaly
from detectors.rules.base import Rule
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

__all__ = ["CATALOGUE", "rule_by_code"]

# Roughly most telling first: the order breaks ties between reasons of the same weight.
CATALOGUE: tuple[type[Rule], ...] = (
    OverdueElsewhere,
    DaysPastDue30,
    NumberInvalid,
    ContactLost,
    MultiLenderBurst,
    LargeNewDebt,
    Late1To29,
    MinimumPaymentStreak,
    PartialPayment,
    HighUtilisation,
    ThirdPartyPayment,
    CreditInquiries,
    FailedContact,
    Anomaly,
)


def rule_by_code(code: str) -> type[Rule]:
    """Look a rule up by its stable code.

    >>> rule_by_code("W_LATE_1_29").key
    'late_1_29'
    """
    for rule in CATALOGUE:
        if rule.code == code:
            return rule
    raise KeyError(code)
