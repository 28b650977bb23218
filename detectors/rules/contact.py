"""Rules on contact checks (calls, SMS, e-mail, app).

>>> ContactLost().fires({"failed_contacts": 3.0, "days_failing": 10.0})
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from detectors.rules.base import StrongRule, WeakRule, param
from detectors.rules.conditions import AllOf, AtLeast, Condition, MoreThan

__all__ = ["ContactLost", "FailedContact", "NumberInvalid"]


@dataclass(frozen=True, slots=True)
class ContactLost(StrongRule):
    """Several failed checks in a row, spread over days: the borrower cannot be reached.

    >>> ContactLost(min_failed=3, min_days=7).fires({"failed_contacts": 5.0, "days_failing": 1.0})
    False
    """

    code: ClassVar[str] = "S_CONTACT_LOST"
    key: ClassVar[str] = "contact_lost"
    description: ClassVar[str] = (
        "min_failed or more failed contact checks in a row spanning min_days or more"
    )
    min_failed: int = param(3, minimum=1)
    min_days: float = param(7.0, minimum=0.0)
    tier: str = param("C", choices=("C", "D"))

    @property
    def condition(self) -> Condition:
        """The failing run is long enough in checks and in days."""
        return AllOf((
            AtLeast("failed_contacts", self.min_failed),
            AtLeast("days_failing", self.min_days),
        ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class NumberInvalid(StrongRule):
    """The latest contact check found the number invalid.

    >>> NumberInvalid().fires({"number_invalid": 1.0})
    True
    """

    code: ClassVar[str] = "S_NUMBER_INVALID"
    key: ClassVar[str] = "number_invalid"
    description: ClassVar[str] = "the latest contact check reported the number invalid"
    tier: str = param("C", choices=("C", "D"))

    @property
    def condition(self) -> Condition:
        """The latest check said ``number_invalid``."""
        return MoreThan("number_invalid", 0.0)


@dataclass(frozen=True, slots=True)
class FailedContact(WeakRule):
    """The latest contact check(s) failed.

    >>> FailedContact().fires({"failed_contacts": 1.0})
    True
    """

    code: ClassVar[str] = "W_FAILED_CONTACT"
    key: ClassVar[str] = "failed_contact"
    description: ClassVar[str] = "the latest min_failed contact checks failed"
    min_failed: int = param(1, minimum=1)

    @property
    def condition(self) -> Condition:
        """Failed checks in a row >= ``min_failed``."""
        return AtLeast("failed_contacts", self.min_failed)
