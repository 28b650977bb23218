"""Behavioural anomaly: River's HalfSpaceTrees over behaviour features with fixed ranges.

It answers "is this borrower behaving unlike the portfolio?" without labels; its score feeds
the weak rule ``W_ANOMALY``. Scoring does not learn: the engine's scores stay a function of
the borrower's own events (so live runs and replays agree), and the model learns from the
matured snapshots the trainer sees (:meth:`ModelHub.learn`), so a pattern that becomes
common stops being anomalous at the next model swap.

It learns from model inputs by name (a snapshot holds those, not the engine's features) and
scores the engine's feature vector.

>>> from detectors.features import feature_vector
>>> watch = AnomalyWatch({"payment_ratio": (0, 1.5), "utilisation": (0, 1.5)}, window_size=50)
>>> watch.score_one(feature_vector({"utilisation": 0.99}))  # nothing learned yet
0.0
>>> for i in range(200):
...     watch.learn_one({"payment_ratio": 1.0, "utilisation": 0.3 + (i % 5) / 100})
>>> usual = watch.score_one(feature_vector({"payment_ratio": 1.0, "utilisation": 0.32}))
>>> odd = watch.score_one(feature_vector({"payment_ratio": 0.0, "utilisation": 0.99}))
>>> odd > usual
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from river import anomaly

from detectors.features import feature_index

# Fixed ranges rather than a running min-max scaler: a scaler fitted on a quiet portfolio
# squeezes the first unusual value into the usual range and hides it.
BEHAVIOUR_RANGES: dict[str, tuple[float, float]] = {
    "payment_ratio": (0.0, 1.5),
    "utilisation": (0.0, 1.5),
    "min_payment_streak": (0.0, 12.0),
    "new_loans_30d": (0.0, 10.0),
    "inquiries_30d": (0.0, 10.0),
    "failed_contacts": (0.0, 10.0),
    "dpd_current": (0.0, 120.0),
}


class AnomalyWatch:
    """HalfSpaceTrees with clipping to fixed ranges (River's AnomalyDetector protocol)."""

    def __init__(
        self,
        ranges: Mapping[str, tuple[float, float]] | None = None,
        *,
        seed: int = 0,
        window_size: int = 250,
        n_trees: int = 10,
        height: int = 8,
    ) -> None:
        self.ranges = dict(ranges or BEHAVIOUR_RANGES)
        self._locate()
        self.model: Any = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=height, window_size=window_size, seed=seed,
            limits=dict(self.ranges.items()),
        )
        self.seen = 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled from a checkpoint (of this or an earlier release, which has no places):
        its attributes, then the features' places."""
        self.__dict__.update(state)
        self._locate()

    def _locate(self) -> None:
        # Where each behaviour feature sits in the engine's feature vector: found once, so an
        # unknown name fails here, not at the first score.
        self._at = tuple(feature_index(name) for name in self.ranges)

    def _clip(self, values: Iterable[float]) -> dict[str, float]:
        """The behaviour features, given in ``ranges`` order, clipped to their ranges."""
        return {
            name: min(high, max(low, float(value)))
            for (name, (low, high)), value in zip(self.ranges.items(), values, strict=True)
        }

    def score_one(self, features: list[float]) -> float:
        """Anomaly score in [0, 1] of the engine's features (0 before anything was learned)."""
        if not self.seen:
            return 0.0
        # A loop, not a generator: one would make ``features`` a closure cell on every call,
        # and this runs on every event, most of them before anything was learned.
        behaviour = []
        for at in self._at:
            behaviour.append(features[at])
        return min(1.0, max(0.0, float(self.model.score_one(self._clip(behaviour)))))

    def learn_one(self, inputs: Mapping[str, float]) -> None:
        """Learn one behaviour, by name (absent ones are 0), as usual behaviour."""
        self.model.learn_one(self._clip(inputs.get(name, 0.0) for name in self.ranges))
        self.seen += 1
