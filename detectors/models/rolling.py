"""Rolling quality of one model on matured outcomes: AUC and log loss over a window.

>>> window = RollingQuality(size=4)
>>> for p, y in [(0.9, 1), (0.2, 0), (0.7, 1), (0.4, 0)]:
...     window.add(p, y)
>>> window.count, window.auc(), round(window.log_loss(), 3)
(4, 1.0, 0.299)
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

EPSILON = 1e-6


def auc(scores: list[float], labels: list[int]) -> float | None:
    """Exact ROC AUC by ranks (ties count half); ``None`` when one class is missing.

    >>> auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    """
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mid_rank = (i + j) / 2 + 1
        rank_sum += mid_rank * sum(labels[order[k]] for k in range(i, j + 1))
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def log_loss(scores: list[float], labels: list[int]) -> float:
    """Mean binary cross-entropy, with probabilities clipped away from 0 and 1.

    >>> round(log_loss([0.5, 0.5], [0, 1]), 4)
    0.6931
    """
    total = 0.0
    for p, y in zip(scores, labels, strict=True):
        p = min(max(p, EPSILON), 1 - EPSILON)
        total -= math.log(p) if y else math.log(1 - p)
    return total / len(scores) if scores else float("nan")


@dataclass
class RollingQuality:
    """The last ``size`` (score, label) pairs of one model."""

    size: int = 2000
    scores: deque[float] = field(default_factory=deque)
    labels: deque[int] = field(default_factory=deque)

    def add(self, score: float, label: int) -> None:
        self.scores.append(score)
        self.labels.append(label)
        if len(self.scores) > self.size:
            self.scores.popleft()
            self.labels.popleft()

    @property
    def count(self) -> int:
        return len(self.scores)

    def auc(self) -> float | None:
        return auc(list(self.scores), list(self.labels))

    def log_loss(self) -> float:
        return log_loss(list(self.scores), list(self.labels))
