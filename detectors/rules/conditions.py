"""What a rule fires on: comparisons of features with the rule's thresholds, as objects.

The tiering asks every rule on every event. A rule states its test as a condition, which
the compiled build (``make compiled``) turns into native code; a call into each rule's own
Python method cost about ten times the comparison it made.

>>> from detectors.features import feature_vector
>>> lost = AllOf((AtLeast("failed_contacts", 3.0), AtLeast("days_failing", 7.0)))
>>> lost.holds(feature_vector({"failed_contacts": 4.0, "days_failing": 9.5}))
True
>>> lost
AllOf((AtLeast('failed_contacts', 3.0), AtLeast('days_failing', 7.0)))
"""

from __future__ import annotations

from detectors.features import feature_index

__all__ = ["AllOf", "AnyOf", "AtLeast", "Between", "Condition", "MoreThan"]


class Condition:
    """A test of one event's features (a vector in ``FEATURE_NAMES`` order); a comparison
    finds its feature's place in the vector when it is made, so an unknown name fails there.

    >>> Condition().holds([])
    Traceback (most recent call last):
    ...
    NotImplementedError
    """

    def holds(self, features: list[float]) -> bool:
        """Whether the features meet the condition."""
        raise NotImplementedError


class AtLeast(Condition):
    """``features[feature] >= bound``.

    >>> from detectors.features import feature_vector
    >>> AtLeast("dpd_current", 30).holds(feature_vector({"dpd_current": 30.0}))
    True
    """

    def __init__(self, feature: str, bound: float) -> None:
        self.feature = feature
        self.index = feature_index(feature)
        self.bound = bound

    def holds(self, features: list[float]) -> bool:
        return features[self.index] >= self.bound

    def __repr__(self) -> str:
        return f"AtLeast({self.feature!r}, {self.bound!r})"


class MoreThan(Condition):
    """``features[feature] > bound``.

    >>> from detectors.features import feature_vector
    >>> MoreThan("number_invalid", 0).holds(feature_vector({}))
    False
    """

    def __init__(self, feature: str, bound: float) -> None:
        self.feature = feature
        self.index = feature_index(feature)
        self.bound = bound

    def holds(self, features: list[float]) -> bool:
        return features[self.index] > self.bound

    def __repr__(self) -> str:
        return f"MoreThan({self.feature!r}, {self.bound!r})"


class Between(Condition):
    """``low <= features[feature] <= high``.

    >>> from detectors.features import feature_vector
    >>> Between("dpd_current", 1, 29).holds(feature_vector({"dpd_current": 29.0}))
    True
    """

    def __init__(self, feature: str, low: float, high: float) -> None:
        self.feature = feature
        self.index = feature_index(feature)
        self.low = low
        self.high = high

    def holds(self, features: list[float]) -> bool:
        return self.low <= features[self.index] <= self.high

    def __repr__(self) -> str:
        return f"Between({self.feature!r}, {self.low!r}, {self.high!r})"


class AllOf(Condition):
    """Every part holds.

    >>> from detectors.features import feature_vector
    >>> both = AllOf((AtLeast("late_6m", 1), AtLeast("late_3m", 1)))
    >>> both.holds(feature_vector({"late_6m": 1.0}))
    False
    """

    def __init__(self, parts: tuple[Condition, ...]) -> None:
        self.parts = parts

    def holds(self, features: list[float]) -> bool:
        return all(part.holds(features) for part in self.parts)

    def __repr__(self) -> str:
        return f"AllOf({self.parts!r})"


class AnyOf(Condition):
    """At least one part holds.

    >>> from detectors.features import feature_vector
    >>> either = AnyOf((AtLeast("late_6m", 1), AtLeast("late_3m", 1)))
    >>> either.holds(feature_vector({"late_6m": 1.0}))
    True
    """

    def __init__(self, parts: tuple[Condition, ...]) -> None:
        self.parts = parts

    def holds(self, features: list[float]) -> bool:
        return any(part.holds(features) for part in self.parts)

    def __repr__(self) -> str:
        return f"AnyOf({self.parts!r})"
