"""Model health: ADWIN on the champion's loss and the PSI of the score distribution.

>>> health = DriftWatch(reference_size=4, bins=2)
>>> for score in [0.1, 0.2, 0.8, 0.9]:
...     health.observe_score(score)
>>> health.psi() is None      # the current window is still empty
True
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from river import drift

PSI_FLOOR = 1e-4


def psi(reference: list[float], current: list[float], bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` on [0, 1] scores.

    Bins are equal-width on the probability scale; empty bins get a small floor so the
    index stays finite. Above 0.25 is the usual "shifted" reading.

    >>> psi([0.1] * 50 + [0.9] * 50, [0.1] * 50 + [0.9] * 50)
    0.0
    >>> psi([0.1] * 100, [0.9] * 100) > 1
    True
    """

    def shares(values: list[float]) -> list[float]:
        counts = [0] * bins
        for v in values:
            counts[min(bins - 1, max(0, int(v * bins)))] += 1
        return [max(c / len(values), PSI_FLOOR) for c in counts]

    ref, cur = shares(reference), shares(current)
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur, strict=True))


@dataclass
class DriftWatch:
    """Watches the champion: ADWIN over its per-outcome log loss, PSI over its scores.

    The first ``reference_size`` scores form the reference window; after that a rolling
    window of the same size is compared with it.
    """

    reference_size: int = 5000
    bins: int = 10
    psi_alert: float = 0.25
    adwin: Any = field(default_factory=lambda: drift.ADWIN(delta=0.002))
    reference: list[float] = field(default_factory=list)
    current: deque[float] = field(default_factory=deque)
    loss_drifts: int = 0

    def observe_score(self, score: float) -> None:
        if len(self.reference) < self.reference_size:
            self.reference.append(score)
            return
        self.current.append(score)
        if len(self.current) > self.reference_size:
            self.current.popleft()

    def observe_loss(self, loss: float) -> bool:
        """Feed one outcome's loss; True when ADWIN detects a change in its mean."""
        self.adwin.update(loss)
        if self.adwin.drift_detected:
            self.loss_drifts += 1
            return True
        return False

    def psi(self) -> float | None:
        if len(self.reference) < self.reference_size or not self.current:
            return None
        return psi(self.reference, list(self.current), self.bins)

    def figures(self) -> dict[str, float | None]:
        """Model-health figures for metrics and reports.

        >>> sorted(DriftWatch().figures())
        ['loss_drifts', 'loss_mean', 'psi', 'psi_shifted']
        """
        value = self.psi()
        return {
            "psi": value,
            "psi_shifted": None if value is None else float(value > self.psi_alert),
            "loss_drifts": float(self.loss_drifts),
            "loss_mean": float(self.adwin.estimation),
        }
