"""Rolling quality: exact AUC with ties, clipped log loss, a window of the last outcomes."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.models.rolling import RollingQuality, auc, log_loss


def pairwise_auc(scores: list[float], labels: list[int]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]) | st.floats(0, 1), st.integers(0, 1)
        ),
        max_size=60,
    )
)
def test_auc_equals_counting_pairs(rows: list[tuple[float, int]]) -> None:
    scores, labels = [s for s, _ in rows], [y for _, y in rows]
    value = auc(scores, labels)
    if 0 < sum(labels) < len(labels):
        assert value is not None and math.isclose(value, pairwise_auc(scores, labels))
    else:
        assert value is None


def test_auc_extremes() -> None:
    assert auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert auc([0.5] * 4, [0, 1, 0, 1]) == 0.5


def test_log_loss_is_clipped_and_finite() -> None:
    assert math.isfinite(log_loss([0.0, 1.0], [1, 0]))
    assert log_loss([1.0, 0.0], [1, 0]) < 1e-5
    assert math.isclose(log_loss([0.8], [1]), -math.log(0.8))
    assert math.isnan(log_loss([], []))


def test_the_window_keeps_the_last_outcomes() -> None:
    window = RollingQuality(size=3)
    for score, label in [(0.9, 0), (0.1, 1), (0.2, 0), (0.8, 1), (0.7, 1)]:
        window.add(score, label)
    assert window.count == 3
    assert list(window.scores) == [0.2, 0.8, 0.7] and list(window.labels) == [0, 1, 1]
    assert window.auc() == 1.0  # the two misranked first outcomes have left the window
