"""The cold-start blend between the policy scorecard and the online model.

Until ``start`` outcomes have matured the scorecard alone scores; the model's weight then
rises linearly to 1 at ``full`` matured outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Blend:
    """How far the model's score replaces the scorecard, by matured outcomes.

    >>> [Blend(start=100, full=300).weight(n) for n in (0, 100, 200, 300, 900)]
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """

    start: int = 500
    full: int = 5000

    def weight(self, outcomes: int) -> float:
        if outcomes <= self.start:
            return 0.0
        return min(1.0, (outcomes - self.start) / max(1, self.full - self.start))
