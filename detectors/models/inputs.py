"""What the online models see: engine features, some passed through, some one-hot binned.

A linear model on raw counts and ratios misses thresholds ("utilisation above 90 %", "one
month late, not two"); binning the telling features into one-hot indicators lets logistic
regression draw them, which on the Taiwan file lifts the last-20,000 AUC from about 0.75 to
about 0.77. The encoding is fixed and ordered, so a snapshot taken today can be learned from
months later.

>>> from detectors.features import feature_vector
>>> encoder = InputEncoder(raw=("late_6m",), binned=(Bins("utilisation", (0.5, 0.9)),))
>>> encoder.names
('late_6m', 'utilisation<0.5', 'utilisation<0.9', 'utilisation>=0.9')
>>> encoder.encode(feature_vector({"late_6m": 2.0, "utilisation": 0.95}))
(2.0, 0.0, 0.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from detectors.features import feature_index
from detectors.models.outcomes import Snapshot


@dataclass(frozen=True, slots=True)
class Bins:
    """One feature cut at ascending ``edges`` into ``len(edges) + 1`` indicators.

    >>> Bins("dpd_current", (1, 30)).names
    ('dpd_current<1', 'dpd_current<30', 'dpd_current>=30')
    """

    feature: str
    edges: tuple[float, ...]

    def __reduce__(self) -> tuple[type[Bins], tuple[str, tuple[float, ...]]]:
        """Pickled as a constructor call (checkpoints hold the encoder): compiled (``make
        compiled``), a frozen dataclass refuses pickle's default restore.

        >>> import pickle
        >>> pickle.loads(pickle.dumps(Bins("x", (1.0,)))).names
        ('x<1', 'x>=1')
        """
        return Bins, (self.feature, self.edges)

    @property
    def names(self) -> tuple[str, ...]:
        below = tuple(f"{self.feature}<{edge:g}" for edge in self.edges)
        return (*below, f"{self.feature}>={self.edges[-1]:g}")

    def slot(self, value: float) -> int:
        """Which indicator ``value`` sets: the number of edges at or below it (an edge
        belongs to the bin above; NaN, like bisect, lands in the last).

        >>> [Bins("x", (1.0, 2.0)).slot(v) for v in (0.5, 1.0, 2.5)]
        [0, 1, 2]
        """
        # A compiled loop over a handful of edges: faster than a call to bisect_right, which
        # compares boxed floats.
        slot = 0
        for edge in self.edges:
            if value < edge:
                break
            slot += 1
        return slot


@dataclass(slots=True, init=False)
class InputEncoder:
    """Features in, a fixed-order vector out: ``raw`` features as they are, then each of
    ``binned`` one-hot. Every name must be one of ``FEATURE_NAMES``."""

    raw: Final[tuple[str, ...]]
    binned: Final[tuple[Bins, ...]]
    # Where the raw and the binned features sit in the feature vector, looked up once here:
    # a snapshot is encoded on every repayment.
    raw_at: tuple[int, ...] = field(compare=False, repr=False)
    bins_at: tuple[tuple[Bins, int], ...] = field(compare=False, repr=False)

    def __init__(self, raw: tuple[str, ...], binned: tuple[Bins, ...] = ()) -> None:
        self.raw = raw
        self.binned = binned
        self.raw_at = tuple(feature_index(name) for name in raw)
        self.bins_at = tuple((bins, feature_index(bins.feature)) for bins in binned)

    def __reduce__(self) -> tuple[type[InputEncoder], tuple[tuple[str, ...], tuple[Bins, ...]]]:
        """Pickled as a constructor call, as :class:`Bins` is.

        >>> import pickle
        >>> pickle.loads(pickle.dumps(InputEncoder(("late_6m",)))).names
        ('late_6m',)
        """
        return InputEncoder, (self.raw, self.binned)

    @property
    def names(self) -> tuple[str, ...]:
        return self.raw + tuple(name for bins in self.binned for name in bins.names)

    def snapshot(self, taken_at: float, features: list[float]) -> Snapshot:
        """The inputs of ``features`` at event time ``taken_at``, built sparse (on every
        repayment: most of the inputs are 0, and a dense vector cost three times as much).

        >>> from detectors.features import feature_vector
        >>> encoder = InputEncoder(("late_3m", "late_6m"), (Bins("utilisation", (0.5,)),))
        >>> encoder.snapshot(9.0, feature_vector({"late_6m": 2.0}))
        Snapshot(taken_at=9.0, size=4, indices=(1, 2), values=(2.0, 1.0))
        """
        # The values stay the features' own float objects (typed Any, so compiled code does
        # not unbox and rebox them): nothing is allocated but the two tuples kept.
        values_of: list[Any] = features
        indices: list[int] = []
        values: list[Any] = []
        index = 0
        for at in self.raw_at:
            value = values_of[at]
            if value:
                indices.append(index)
                values.append(value)
            index += 1
        hot: Any = 1.0
        for bins, at in self.bins_at:
            indices.append(index + bins.slot(features[at]))
            values.append(hot)
            index += len(bins.edges) + 1
        return Snapshot(taken_at, index, tuple(indices), tuple(values))

    def encode(self, features: list[float]) -> tuple[float, ...]:
        """The dense input vector of ``features``, in :attr:`names` order."""
        return self.snapshot(0.0, features).features


RATIO_EDGES = (0.01, 0.05, 0.1, 0.3, 0.6, 0.99, 1.01)
DPD_EDGES = (1.0, 30.0, 60.0, 90.0)

DEFAULT_ENCODER = InputEncoder(
    raw=(
        "dpd_current", "dpd_max_90d", "dpd_max_180d", "dpd_max_365d",
        "late_3m", "late_6m", "late_12m", "min_payment_streak",
        "payment_ratio", "payment_ratio_180d", "utilisation",
        "partial_payments_90d", "third_party_payments_90d",
        "new_loans_30d", "new_loans_90d", "distinct_lenders_30d", "distinct_lenders_90d",
        "small_loans_90d", "inquiries_30d", "inquiries_90d", "new_debt_to_limit_30d",
        "overdue_elsewhere_days", "overdue_elsewhere_small_days",
        "failed_contacts", "days_failing", "number_invalid", "anomaly_score",
        "paid_full_last_1", "paid_full_last_2", "paid_full_last_3",
        "no_due_last_1", "no_due_last_2", "no_due_last_3",
    ),
    binned=(
        Bins("dpd_last_1", DPD_EDGES),
        Bins("dpd_last_2", DPD_EDGES),
        Bins("dpd_last_3", DPD_EDGES),
        Bins("utilisation", (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)),
        Bins("payment_ratio", RATIO_EDGES),
        Bins("payment_ratio_180d", RATIO_EDGES),
        Bins("credit_limit", (30000, 50000, 80000, 140000, 200000, 300000, 500000)),
        Bins("paid_to_limit_180d", (0.001, 0.01, 0.03, 0.1, 0.3)),
        Bins("late_6m", (0.5, 1.5, 2.5, 3.5, 4.5)),
        Bins("dpd_max_180d", (1.0, 31.0, 61.0, 91.0)),
        Bins("min_payment_streak", (0.5, 1.5, 2.5, 3.5, 5.5)),
    ),
)  # fmt: skip
MODEL_FEATURES = DEFAULT_ENCODER.names
