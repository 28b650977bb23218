"""The one entry point of the core: ``Monitor.process(state, event) -> (state, Decision)``.

For speed, ``process`` updates the state it is given and returns it (``state.copy()`` first
to keep the old one). Time comes only from events, so live runs and replays agree.

>>> from detectors.events import parse_event
>>> from detectors.policy import load_policy
>>> monitor = Monitor(load_policy())
>>> event = parse_event('{"event_id": "e1", "event_type": "repayment", "borrower_id": "b1",'
...     ' "occurred_at": "2024-03-01T09:00:00Z", "loan_id": "L1", "due_date": "2024-03-01",'
...     ' "amount_due": 100, "amount_paid": 0, "days_past_due": 35}')
>>> state, decision = monitor.process(None, event)
>>> decision.tier, decision.reasons[0], [a.queue for a in decision.alerts]
('D', 'S_DPD_30', ['collections.immediate', 'credit.limit_review'])
>>> monitor.process(state, event)[1].duplicate
True
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from detectors.decision import Alert, Decision, alert_id
from detectors.events import ContactStatus, Event, NewBorrowing, Repayment
from detectors.features import ANOMALY_SCORE, compute_features, feature_index, repayment_flags
from detectors.models.inputs import InputEncoder
from detectors.models.outcomes import Outcome
from detectors.policy import Policy
from detectors.scoring import AnomalyScorer, Scorecard, Scorer
from detectors.state import CONTACT_FAILED, CONTACT_INVALID, CONTACT_REACHED, BorrowerState
from detectors.tiering import Tiering
from detectors.treatments import Treatments

__all__ = ["Monitor"]

_CONTACT_OUTCOME: Final = {"reachable": CONTACT_REACHED, "number_invalid": CONTACT_INVALID}
_DPD_CURRENT: Final = feature_index("dpd_current")


class Monitor:
    """Features, score, tier with hysteresis, and alerts for each event of one borrower.

    ``anomaly`` optionally supplies the ``anomaly_score`` feature (River-style ``score_one``).
    With an ``encoder``, every repayment cycle leaves a snapshot of the model inputs in the
    state, and decisions carry the snapshots whose outcome matured (``Decision.outcomes``)
    for the learner; without one, nothing is kept for learning.

    >>> from detectors.policy import load_policy
    >>> Monitor(load_policy()).scorer.version
    'scorecard:default-2024.1'
    """

    def __init__(
        self,
        policy: Policy,
        scorer: Scorer | None = None,
        anomaly: AnomalyScorer | None = None,
        encoder: InputEncoder | None = None,
    ) -> None:
        self.policy = policy
        self.encoder = encoder
        self.scorer = scorer if scorer is not None else Scorecard.from_policy(policy)
        self.anomaly = anomaly
        self.tiering = Tiering(policy)
        self.treatments = Treatments(policy)
        # Read on every event: looked up once here.
        self._dedup_ids = policy.dedup_ids
        self._outcome_rule = policy.models.outcomes
        self._min_payment_tolerance = policy.min_payment_tolerance

    def process(self, state: BorrowerState | None, event: Event) -> tuple[BorrowerState, Decision]:
        """Apply one event; a repeated ``event_id`` changes nothing and is marked duplicate."""
        if state is None:
            state = BorrowerState(event.borrower_id)
        elif state.borrower_id != event.borrower_id:
            raise ValueError(
                f"event {event.event_id} is for {event.borrower_id}, state is {state.borrower_id}"
            )
        if not state.remember(event.event_id, self._dedup_ids):
            return state, self._duplicate(state, event)
        occurred_at = event.occurred_at
        ts = event.ts
        state.advance(ts)
        is_repayment = type(event) is Repayment
        self._record(state, event, ts)
        features = compute_features(state)
        if self.anomaly is not None:
            features[ANOMALY_SCORE] = min(1.0, max(0.0, self.anomaly.score_one(features)))
        scorer = self.scorer
        score = scorer.score(features)
        version = scorer.version
        evidence = self.tiering.assess(features, score)
        previous = state.tier
        tier, reasons = self.tiering.settle(state, evidence, cycle=is_repayment)
        state.tier, state.reasons, state.score = tier, reasons, score
        alerts = self.treatments.alerts(state, event, tier, reasons, features)
        policy_version = self.policy.version
        if alerts or tier != previous:
            state.record_decision((
                event.event_id, ts, previous, tier, reasons, score, version, policy_version,
                tuple((a.queue, a.severity, a.treatment) for a in alerts),
            ))  # fmt: skip
        outcomes: tuple[Outcome, ...] = ()
        if self.encoder is not None:
            snapshot = None
            # The borrower's position (worst loan) holds at this event's time only when the
            # event is not late; a repayment also reports its own loan's days past due. A late
            # event leaves no snapshot: its features already include newer events.
            in_time = ts >= state.now
            dpd = int(features[_DPD_CURRENT]) if in_time else 0
            if isinstance(event, Repayment):
                dpd = max(dpd, event.days_past_due)
                if in_time:
                    snapshot = self.encoder.snapshot(ts, features)
            state.pending, outcomes = self._outcome_rule.advance(state.pending, ts, dpd, snapshot)
        return state, Decision(
            state.borrower_id, event.event_id, occurred_at, features, score, version, tier,
            previous, reasons, alerts, False, policy_version, outcomes,
        )  # fmt: skip

    def _record(self, state: BorrowerState, event: Event, ts: float) -> None:
        if type(event) is Repayment:
            flags = repayment_flags(event, self._min_payment_tolerance)
            row = (ts, event.days_past_due, event.amount_paid, event.amount_due, flags)
            state.add_repayment(row, event.loan_id, event.outstanding_balance, event.credit_limit)
        elif type(event) is NewBorrowing:
            state.add_borrowing((
                ts, event.lender_id, event.lender_type, event.kind == "credit_inquiry",
                event.amount or 0.0, event.overdue_days_elsewhere or 0,
            ))  # fmt: skip
        elif type(event) is ContactStatus:
            state.add_contact(ts, _CONTACT_OUTCOME.get(event.status, CONTACT_FAILED))

    def _duplicate(self, state: BorrowerState, event: Event) -> Decision:
        tier = state.tier or "A"  # a state that has seen an event always has a tier
        return Decision(
            state.borrower_id, event.event_id, event.occurred_at, [], state.score,
            self.scorer.version, tier, tier, state.reasons, (), True, self.policy.version,
            earlier=_earlier(state, event.event_id),
        )  # fmt: skip


def _earlier(state: BorrowerState, event_id: str) -> Decision | None:
    """The recorded decision on ``event_id``, rebuilt with its tier change and alerts."""
    for recorded in reversed(state.recent):
        if recorded[0] != event_id:
            continue
        _, ts, previous, tier, reasons, score, model, policy, actions = recorded
        at = datetime.fromtimestamp(ts, UTC)
        borrower = state.borrower_id
        alerts = tuple(
            Alert(alert_id(borrower, queue, event_id), borrower, queue, severity, tier, reasons,
                  treatment, event_id, at)
            for queue, severity, treatment in actions
        )  # fmt: skip
        return Decision(borrower, event_id, at, [], score, model, tier, previous, reasons,
                        alerts, False, policy)  # fmt: skip
    return None
