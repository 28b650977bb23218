"""What the engine says about one event: the Decision, and the Alert and TierChange it implies.

>>> from datetime import datetime, timezone
>>> at = datetime(2024, 3, 1, tzinfo=timezone.utc)
>>> d = Decision("b1", "e1", at, {}, 0.02, "m1", "A", None, (), (), False, "p1")
>>> d.tier_change.to_dict()["previous_tier"] is None
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from detectors.models.outcomes import Outcome

__all__ = ["Alert", "Decision", "TierChange", "alert_id"]


def alert_id(borrower_id: str, queue: str, cause_event_id: str) -> str:
    """A deterministic id, so a replayed or redelivered event yields the same alert id.

    >>> alert_id("b1", "collections.immediate", "e9")
    '676dae5173f2a42ee76bb046130c8190'

    """
    key = f"{borrower_id}\x1f{queue}\x1f{cause_event_id}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


@dataclass(slots=True, init=False)
class Alert:
    """An early-warning alert for one queue, with the treatment to apply and why.

    >>> from datetime import datetime, timezone
    >>> a = Alert("id", "b1", "collections.immediate", "critical", "D", ("S_DPD_30",), "call_now",
    ...           "e1", datetime(2024, 3, 1, tzinfo=timezone.utc))
    >>> import orjson
    >>> a.to_dict()["reasons"], orjson.dumps(a.to_dict()["occurred_at"])
    (['S_DPD_30'], b'"2024-03-01T00:00:00+00:00"')
    """

    alert_id: Final[str]
    borrower_id: Final[str]
    queue: Final[str]
    severity: Final[str]
    tier: Final[str]
    reasons: Final[tuple[str, ...]]
    treatment: Final[str]
    cause_event_id: Final[str]
    occurred_at: Final[datetime]

    def __init__(
        self, alert_id: str, borrower_id: str, queue: str, severity: str, tier: str,
        reasons: tuple[str, ...], treatment: str, cause_event_id: str, occurred_at: datetime,
    ) -> None:  # fmt: skip
        self.alert_id = alert_id
        self.borrower_id = borrower_id
        self.queue = queue
        self.severity = severity
        self.tier = tier
        self.reasons = reasons
        self.treatment = treatment
        self.cause_event_id = cause_event_id
        self.occurred_at = occurred_at

    def to_dict(self) -> dict[str, Any]:
        """The fields for orjson, which writes ``occurred_at`` in RFC 3339 as ``isoformat``
        does, at a fraction of its cost (``isoformat`` formats through ``printf``)."""
        return {
            "alert_id": self.alert_id,
            "borrower_id": self.borrower_id,
            "queue": self.queue,
            "severity": self.severity,
            "tier": self.tier,
            "reasons": list(self.reasons),
            "treatment": self.treatment,
            "cause_event_id": self.cause_event_id,
            "occurred_at": self.occurred_at,
        }


@dataclass(slots=True, init=False)
class TierChange:
    """A borrower's tier moved (or was set for the first time: ``previous_tier`` None).

    >>> from datetime import datetime, timezone
    >>> TierChange("b1", "B", "D", ("S_DPD_30",), 0.4, "p1", "e1",
    ...            datetime(2024, 3, 1, tzinfo=timezone.utc)).to_dict()["tier"]
    'D'
    """

    borrower_id: Final[str]
    previous_tier: Final[str | None]
    tier: Final[str]
    reasons: Final[tuple[str, ...]]
    score: Final[float]
    policy_version: Final[str]
    cause_event_id: Final[str]
    occurred_at: Final[datetime]

    def __init__(
        self, borrower_id: str, previous_tier: str | None, tier: str, reasons: tuple[str, ...],
        score: float, policy_version: str, cause_event_id: str, occurred_at: datetime,
    ) -> None:  # fmt: skip
        self.borrower_id = borrower_id
        self.previous_tier = previous_tier
        self.tier = tier
        self.reasons = reasons
        self.score = score
        self.policy_version = policy_version
        self.cause_event_id = cause_event_id
        self.occurred_at = occurred_at

    def to_dict(self) -> dict[str, Any]:
        """The fields for orjson, which writes ``occurred_at`` in RFC 3339 as ``isoformat``
        does, at a fraction of its cost (``isoformat`` formats through ``printf``)."""
        return {
            "borrower_id": self.borrower_id,
            "previous_tier": self.previous_tier,
            "tier": self.tier,
            "reasons": list(self.reasons),
            "score": self.score,
            "policy_version": self.policy_version,
            "cause_event_id": self.cause_event_id,
            "occurred_at": self.occurred_at,
        }


@dataclass(slots=True, init=False)
class Decision:
    """The outcome of one event for its borrower: ``features`` in ``FEATURE_NAMES`` order
    (see :mod:`detectors.features`), empty for a duplicate.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2024, 3, 1, tzinfo=timezone.utc)
    >>> Decision("b1", "e1", at, [], 0.1, "m", "B", "B", (), (), False, "p").tier_change is None
    True
    """

    borrower_id: Final[str]
    event_id: Final[str]
    occurred_at: Final[datetime]
    features: Final[list[float]]
    score: Final[float]
    model_version: Final[str]
    tier: Final[str]
    previous_tier: Final[str | None]
    reasons: Final[tuple[str, ...]]
    alerts: Final[tuple[Alert, ...]]
    duplicate: Final[bool]
    policy_version: Final[str]
    outcomes: Final[tuple[Outcome, ...]]  # earlier snapshots whose outcome this event decided
    # For a duplicate: the first decision on this event, rebuilt from the state, when it
    # produced outputs. A shell that may have lost those outputs in a crash re-sends them;
    # their ids (alert_id, cause_event_id) make the re-send idempotent downstream.
    earlier: Final[Decision | None]

    def __init__(
        self, borrower_id: str, event_id: str, occurred_at: datetime,
        features: list[float], score: float, model_version: str, tier: str,
        previous_tier: str | None, reasons: tuple[str, ...], alerts: tuple[Alert, ...],
        duplicate: bool, policy_version: str, outcomes: tuple[Outcome, ...] = (),
        earlier: Decision | None = None,
    ) -> None:  # fmt: skip
        self.borrower_id = borrower_id
        self.event_id = event_id
        self.occurred_at = occurred_at
        self.features = features
        self.score = score
        self.model_version = model_version
        self.tier = tier
        self.previous_tier = previous_tier
        self.reasons = reasons
        self.alerts = alerts
        self.duplicate = duplicate
        self.policy_version = policy_version
        self.outcomes = outcomes
        self.earlier = earlier

    @property
    def tier_change(self) -> TierChange | None:
        """The tier change this decision makes, including a borrower's first tier."""
        if self.duplicate or self.tier == self.previous_tier:
            return None
        return TierChange(
            self.borrower_id,
            self.previous_tier,
            self.tier,
            self.reasons,
            self.score,
            self.policy_version,
            self.event_id,
            self.occurred_at,
        )
