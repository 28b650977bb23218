"""Rules on the borrower's own repayments with us.

>>> from detectors.rules.repayment import MinimumPaymentStreak
>>> MinimumPaymentStreak(min_streak=3).fires({"min_payment_streak": 3.0})
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from detectors.rules.base import StrongRule, WeakRule, param
from detectors.rules.conditions import AtLeast, Between, Condition

__all__ = [
    "DaysPastDue30",
    "HighUtilisation",
    "Late1To29",
    "MinimumPaymentStreak",
    "PartialPayment",
    "ThirdPartyPayment",
]


@dataclass(frozen=True, slots=True)
class DaysPastDue30(StrongRule):
    """Own days past due at or beyond ``min_days`` on any loan.

    >>> DaysPastDue30().fires({"dpd_current": 29.0}), DaysPastDue30().fires({"dpd_current": 30.0})
    (False, True)
    """

    code: ClassVar[str] = "S_DPD_30"
    key: ClassVar[str] = "dpd_30"
    description: ClassVar[str] = "days past due on one of our loans reached the threshold"
    min_days: int = param(30, minimum=1)
    tier: str = param("D", choices=("C", "D"))

    @property
    def condition(self) -> Condition:
        """Current days past due >= ``min_days``."""
        return AtLeast("dpd_current", self.min_days)


@dataclass(frozen=True, slots=True)
class Late1To29(WeakRule):
    """Currently late, but less than a month.

    >>> Late1To29().fires({"dpd_current": 5.0}), Late1To29().fires({"dpd_current": 45.0})
    (True, False)
    """

    code: ClassVar[str] = "W_LATE_1_29"
    key: ClassVar[str] = "late_1_29"
    description: ClassVar[str] = "between min_days and max_days past due now"
    min_days: int = param(1, minimum=1)
    max_days: int = param(29, minimum=1)

    @property
    def condition(self) -> Condition:
        """``min_days`` <= current days past due <= ``max_days``."""
        return Between("dpd_current", self.min_days, self.max_days)


@dataclass(frozen=True, slots=True)
class MinimumPaymentStreak(WeakRule):
    """The latest ``min_streak`` repayments in a row paid only (about) the minimum due.

    >>> MinimumPaymentStreak().fires({"min_payment_streak": 2.0})
    False
    """

    code: ClassVar[str] = "W_MIN_PAYMENT_STREAK"
    key: ClassVar[str] = "min_payment_streak"
    description: ClassVar[str] = "the last min_streak repayments in a row paid only the minimum"
    min_streak: int = param(3, minimum=1)

    @property
    def condition(self) -> Condition:
        """The minimum-payment streak >= ``min_streak``."""
        return AtLeast("min_payment_streak", self.min_streak)


@dataclass(frozen=True, slots=True)
class HighUtilisation(WeakRule):
    """Outstanding balance close to the credit limit.

    >>> HighUtilisation(min_utilisation=0.9).fires({"utilisation": 0.95})
    True
    """

    code: ClassVar[str] = "W_HIGH_UTILISATION"
    key: ClassVar[str] = "high_utilisation"
    description: ClassVar[str] = "outstanding balance / credit limit at or above min_utilisation"
    min_utilisation: float = param(0.9, minimum=0.0)

    @property
    def condition(self) -> Condition:
        """Utilisation >= ``min_utilisation``."""
        return AtLeast("utilisation", self.min_utilisation)


@dataclass(frozen=True, slots=True)
class PartialPayment(WeakRule):
    """Paid something, but less than was required, within the last 90 days.

    >>> PartialPayment().fires({"partial_payments_90d": 1.0})
    True
    """

    code: ClassVar[str] = "W_PARTIAL_PAYMENT"
    key: ClassVar[str] = "partial_payment"
    description: ClassVar[str] = "at least min_count partial payments in the last 90 days"
    min_count: int = param(1, minimum=1)

    @property
    def condition(self) -> Condition:
        """Partial payments in 90 days >= ``min_count``."""
        return AtLeast("partial_payments_90d", self.min_count)


@dataclass(frozen=True, slots=True)
class ThirdPartyPayment(WeakRule):
    """Someone else paid, within the last 90 days.

    >>> ThirdPartyPayment().fires({"third_party_payments_90d": 0.0})
    False
    """

    code: ClassVar[str] = "W_THIRD_PARTY_PAYMENT"
    key: ClassVar[str] = "third_party_payment"
    description: ClassVar[str] = "at least min_count payments by a third party in 90 days"
    min_count: int = param(1, minimum=1)

    @property
    def condition(self) -> Condition:
        """Third-party payments in 90 days >= ``min_count``."""
        return AtLeast("third_party_payments_90d", self.min_count)
