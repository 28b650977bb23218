"""Scorers: one narrow protocol for everything that turns features into a probability of going bad.

Until the online models have matured labels, the :class:`Scorecard` from the policy is the prior:
transparent points per feature, summed and passed through the logistic function.

>>> from detectors.features import feature_vector
>>> from detectors.policy import load_policy
>>> card = Scorecard.from_policy(load_policy())
>>> round(card.score(feature_vector({})), 4)
0.018
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

from detectors.features import FEATURE_NAMES, feature_index
from detectors.policy import Policy

__all__ = ["AnomalyScorer", "Scorecard", "Scorer"]


class Scorer(Protocol):
    """Anything that gives the probability (0..1) that a borrower goes bad, and names its version.

    >>> scorer: Scorer = Scorecard(-1.0, {})
    >>> scorer.version
    'scorecard'
    """

    # A read-only property, so both plain attributes and computed versions satisfy it.
    @property
    def version(self) -> str:
        """Names the model (or scorecard) that produced a score; recorded in decisions."""
        ...

    def score(self, features: list[float]) -> float:
        """The probability of going bad given the features (in ``FEATURE_NAMES`` order)."""
        ...


class AnomalyScorer(Protocol):
    """An anomaly detector in River's style: ``score_one`` gives 0 (usual) .. 1 (anomalous).

    >>> class Never:
    ...     def score_one(self, features: list[float]) -> float: return 0.0
    >>> detector: AnomalyScorer = Never()
    >>> detector.score_one([90.0])
    0.0
    """

    def score_one(self, features: list[float]) -> float:
        """How unusual these features are (in ``FEATURE_NAMES`` order), 0..1."""
        ...


class Scorecard:
    """Points per unit of each feature, plus an intercept, through the logistic function.

    >>> from detectors.features import feature_vector
    >>> card = Scorecard(intercept=-2.0, points={"dpd_current": 0.1}, version="v1")
    >>> card.points_for(feature_vector({"dpd_current": 20.0}))
    {'dpd_current': 2.0}
    >>> card.score(feature_vector({"dpd_current": 20.0}))
    0.5
    """

    def __init__(
        self, intercept: float, points: Mapping[str, float], version: str = "scorecard"
    ) -> None:
        self.intercept = intercept
        self.points = tuple(points.items())
        # (feature index, weight): score() runs on every event.
        self.terms = tuple((feature_index(name), weight) for name, weight in self.points)
        self.version = version

    def __reduce__(self) -> tuple[type[Scorecard], tuple[float, dict[str, float], str]]:
        """Pickled as a constructor call (checkpoints hold one): the compiled class
        (``make compiled``) refuses pickle's default restore.

        >>> import pickle
        >>> pickle.loads(pickle.dumps(Scorecard(-1.0, {"late_6m": 0.5}, "v2"))).points
        (('late_6m', 0.5),)
        """
        return Scorecard, (self.intercept, dict(self.points), self.version)

    @classmethod
    def from_policy(cls, policy: Policy) -> Scorecard:
        """The policy's scorecard, versioned after the policy.

        >>> from detectors.policy import load_policy
        >>> Scorecard.from_policy(load_policy()).version
        'scorecard:default-2024.1'
        """
        version = f"scorecard:{policy.version}"
        return cls(policy.scorecard_intercept, policy.scorecard_points, version)

    def points_for(self, features: list[float]) -> dict[str, float]:
        """Each feature's contribution, for explaining a score.

        >>> from detectors.features import feature_vector
        >>> Scorecard(0.0, {"late_6m": 0.5}).points_for(feature_vector({"late_6m": 2.0}))
        {'late_6m': 1.0}
        """
        return {FEATURE_NAMES[index]: weight * features[index] for index, weight in self.terms}

    def score(self, features: list[float]) -> float:
        """The probability of going bad, 0..1.

        >>> Scorecard(0.0, {}).score([])
        0.5
        """
        z = self.intercept
        for index, weight in self.terms:
            z += weight * features[index]
        # Clamp so exp() cannot overflow on absurd inputs; the probability is 0 or 1 there anyway.
        return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, z))))
