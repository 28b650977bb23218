"""Rules on borrowing elsewhere, from bureau events.

>>> MultiLenderBurst(min_lenders=3).fires({"distinct_lenders_30d": 3.0})
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from detectors.rules.base import StrongRule, WeakRule, param
from detectors.rules.conditions import AllOf, AnyOf, AtLeast, Condition

__all__ = ["CreditInquiries", "LargeNewDebt", "MultiLenderBurst", "OverdueElsewhere"]


@dataclass(frozen=True, slots=True)
class OverdueElsewhere(StrongRule):
    """Delinquency reported at another lender in the last 90 days.

    Small-loan lenders (microloan, p2p, bnpl) get their own, lower threshold: being late on a
    small loan is the most telling early sign.

    >>> rule = OverdueElsewhere(min_days=30, min_days_small_loan=1)
    >>> rule.fires({"overdue_elsewhere_days": 5.0, "overdue_elsewhere_small_days": 5.0})
    True
    >>> rule.fires({"overdue_elsewhere_days": 5.0, "overdue_elsewhere_small_days": 0.0})
    False
    """

    code: ClassVar[str] = "S_OVERDUE_ELSEWHERE"
    key: ClassVar[str] = "overdue_elsewhere"
    description: ClassVar[str] = "another lender reports the borrower overdue (small loans: sooner)"
    min_days: int = param(30, minimum=1)
    min_days_small_loan: int = param(1, minimum=1)
    tier: str = param("D", choices=("C", "D"))

    @property
    def condition(self) -> Condition:
        """Overdue days elsewhere reach ``min_days`` (small loans: the lower bar)."""
        return AnyOf((
            AtLeast("overdue_elsewhere_days", self.min_days),
            AtLeast("overdue_elsewhere_small_days", self.min_days_small_loan),
        ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class MultiLenderBurst(StrongRule):
    """New loans at several distinct lenders within 30 days (loan stacking).

    >>> MultiLenderBurst().fires({"distinct_lenders_30d": 2.0})
    False
    """

    code: ClassVar[str] = "S_MULTI_LENDER_BURST"
    key: ClassVar[str] = "multi_lender_burst"
    description: ClassVar[str] = "new loans at min_lenders or more distinct lenders in 30 days"
    min_lenders: int = param(3, minimum=2)
    tier: str = param("C", choices=("C", "D"))

    @property
    def condition(self) -> Condition:
        """Distinct lenders in 30 days >= ``min_lenders``."""
        return AtLeast("distinct_lenders_30d", self.min_lenders)


@dataclass(frozen=True, slots=True)
class LargeNewDebt(StrongRule):
    """New borrowing in 30 days that is large relative to our credit limit.

    >>> LargeNewDebt(min_ratio=1.0, min_amount=1000.0).fires(
    ...     {"new_debt_to_limit_30d": 1.5, "new_loan_amount_30d": 3000.0})
    True
    """

    code: ClassVar[str] = "S_LARGE_NEW_DEBT"
    key: ClassVar[str] = "large_new_debt"
    description: ClassVar[str] = (
        "new loans in 30 days >= min_ratio x our credit limit and >= min_amount"
    )
    min_ratio: float = param(1.0, minimum=0.0)
    min_amount: float = param(1000.0, minimum=0.0)
    tier: str = param("C", choices=("C", "D"))

    @property
    def condition(self) -> Condition:
        """Both the ratio and the amount thresholds are reached."""
        return AllOf((
            AtLeast("new_debt_to_limit_30d", self.min_ratio),
            AtLeast("new_loan_amount_30d", self.min_amount),
        ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class CreditInquiries(WeakRule):
    """Frequent credit inquiries: shopping for credit.

    >>> CreditInquiries(min_inquiries=3).fires({"inquiries_30d": 4.0})
    True
    """

    code: ClassVar[str] = "W_CREDIT_INQUIRIES"
    key: ClassVar[str] = "credit_inquiries"
    description: ClassVar[str] = "min_inquiries or more credit inquiries in 30 days"
    min_inquiries: int = param(3, minimum=1)

    @property
    def condition(self) -> Condition:
        """Inquiries in 30 days >= ``min_inquiries``."""
        return AtLeast("inquiries_30d", self.min_inquiries)
