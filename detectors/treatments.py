"""Treatment strategy: from the settled tier to the policy's actions, as suppressed alerts.

The situation refines the tier where the design asks for it: C splits on the latest contact
check (reachable, unreachable, or not yet known) and A is eligible for a limit increase or
cross-sell only when usage is high and the 12-month record is clean.

>>> from detectors.features import feature_vector
>>> situation("C", feature_vector({"contact_known": 1.0}), (), 0.7)
'C_unreachable'
"""

from __future__ import annotations

from typing import Final

from detectors.decision import Alert, alert_id
from detectors.events import Event
from detectors.features import feature_index
from detectors.policy import Policy
from detectors.state import BorrowerState

__all__ = ["Treatments", "situation"]

_HOUR: Final = 3600.0
_CONTACT_KNOWN: Final = feature_index("contact_known")
_LAST_CONTACT_REACHABLE: Final = feature_index("last_contact_reachable")
_UTILISATION: Final = feature_index("utilisation")
_LATE_12M: Final = feature_index("late_12m")
_DPD_MAX_365D: Final = feature_index("dpd_max_365d")


def situation(
    tier: str, features: list[float], reasons: tuple[str, ...], min_utilisation: float
) -> str:
    """The key of ``[treatments]`` in the policy that applies.

    >>> from detectors.features import feature_vector
    >>> f = feature_vector({"utilisation": 0.8})
    >>> situation("A", f, (), 0.7), situation("A", f, (), 0.9)
    ('A_eligible', 'A')
    """
    if tier == "C":
        if not features[_CONTACT_KNOWN]:
            return "C_unknown"
        return "C_reachable" if features[_LAST_CONTACT_REACHABLE] else "C_unreachable"
    if (
        tier == "A"
        and not reasons
        and features[_UTILISATION] >= min_utilisation
        and not features[_LATE_12M]
        and not features[_DPD_MAX_365D]
    ):
        return "A_eligible"
    return tier


class Treatments:
    """Turns a decision's tier into alerts, not repeating one inside its suppression window.

    >>> from datetime import datetime, timezone
    >>> from detectors.events import ContactStatus
    >>> from detectors.features import feature_vector
    >>> from detectors.policy import load_policy
    >>> treat = Treatments(load_policy())
    >>> state = BorrowerState("b1")
    >>> at = datetime(2024, 3, 1, tzinfo=timezone.utc)
    >>> f = feature_vector({})
    >>> first, again = (ContactStatus(e, "b1", at, "sms", "no_answer") for e in ("e1", "e2"))
    >>> [a.queue for a in treat.alerts(state, first, "D", ("S_DPD_30",), f)]
    ['collections.immediate', 'credit.limit_review']
    >>> treat.alerts(state, again, "D", ("S_DPD_30",), f)
    ()
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.by_reasons = policy.suppression_by == "treatment_and_reasons"
        self.default_window = policy.suppression_hours * _HOUR
        self.windows = {q: h * _HOUR for q, h in policy.suppression_hours_by_queue.items()}
        self.longest = max([self.default_window, *self.windows.values()])
        # Per situation: each action with its suppression key (before reasons) and window,
        # built once here, as alerts() runs on every event.
        self.plans = {
            name: tuple(
                (action, f"{action.queue}|{action.treatment}",
                 self.windows.get(action.queue, self.default_window))
                for action in actions
            )
            for name, actions in policy.treatments.items()
        }  # fmt: skip
        self.min_utilisation = policy.eligibility_min_utilisation

    def alerts(
        self,
        state: BorrowerState,
        event: Event,
        tier: str,
        reasons: tuple[str, ...],
        features: list[float],
    ) -> tuple[Alert, ...]:
        """Alerts for this decision on ``event``; records what was sent in ``state.alerts_sent``."""
        sent = state.alerts_sent
        if sent:
            self._forget_expired(sent, state.now)
        plan = self.plans[situation(tier, features, reasons, self.min_utilisation)]
        if not plan:
            return ()
        ts = event.ts
        event_id = event.event_id
        suffix = "|" + ",".join(sorted(reasons)) if self.by_reasons else ""
        out = []
        for action, key, window in plan:
            key += suffix
            last = sent.get(key)
            # abs(): a late event inside the window of a later alert is a repeat too.
            if last is not None and abs(ts - last) < window:
                continue
            sent[key] = ts if last is None else max(ts, last)
            out.append(
                Alert(
                    alert_id(state.borrower_id, action.queue, event_id),
                    state.borrower_id,
                    action.queue,
                    action.severity,
                    tier,
                    reasons,
                    action.treatment,
                    event_id,
                    event.occurred_at,
                )
            )
        return tuple(out)

    def _forget_expired(self, sent: dict[str, float], now: float) -> None:
        # Keys whose window has passed can never suppress again: drop them to bound the state.
        cutoff = now - self.longest
        if min(sent.values()) >= cutoff:  # the usual case: nothing expired
            return
        for key in [k for k, ts in sent.items() if ts < cutoff]:
            del sent[key]
