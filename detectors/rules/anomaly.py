"""The anomaly rule: fires on the ``anomaly_score`` feature set by an anomaly detector.

>>> Anomaly(min_score=0.8).fires({"anomaly_score": 0.9})
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from detectors.rules.base import WeakRule, param
from detectors.rules.conditions import AtLeast, Condition

__all__ = ["Anomaly"]


@dataclass(frozen=True, slots=True)
class Anomaly(WeakRule):
    """Behaviour unlike the borrower's peers (0 until ``Monitor`` is given an anomaly scorer).

    >>> Anomaly().fires({"anomaly_score": 0.0})
    False
    """

    code: ClassVar[str] = "W_ANOMALY"
    key: ClassVar[str] = "anomaly"
    description: ClassVar[str] = "the anomaly detector's score is at or above min_score"
    min_score: float = param(0.8, minimum=0.0, maximum=1.0)

    @property
    def condition(self) -> Condition:
        """``anomaly_score`` >= ``min_score``."""
        return AtLeast("anomaly_score", self.min_score)
