"""The records a decision sends downstream: its tier change, its alerts and the outcomes it
matured (the trainer's examples), each on the borrower's partition of its topic.

The worker and the benchmark's raw ceiling both send them through :func:`add_records`, so
the ceiling does the same output work the pipeline does.

>>> from detectors.events import parse_event
>>> from detectors.policy import load_policy
>>> from detectors.engine import Monitor
>>> from streams.settings import Settings
>>> from streams.topics import TopicPlan
>>> class Shown:
...     def add(self, topic, partition, key, value):
...         print(topic, partition, key)
>>> policy = load_policy()
>>> event = parse_event('{"event_id": "e1", "event_type": "repayment", "borrower_id": "b1",'
...     ' "occurred_at": "2024-03-01T09:00:00Z", "loan_id": "L1", "due_date": "2024-03-01",'
...     ' "amount_due": 100, "amount_paid": 0, "days_past_due": 35}')
>>> _, decision = Monitor(policy).process(None, event)
>>> add_records(Shown(), TopicPlan(Settings(), policy), decision, 3)
loanwatch.tier-changes 3 b'b1'
loanwatch.alerts.collections.immediate 3 b'b1'
loanwatch.alerts.credit.limit_review 3 b'b1'
"""

from __future__ import annotations

from typing import Protocol

from detectors.decision import Decision
from streams.messages import json_bytes
from streams.modelsync import outcome_message
from streams.topics import TopicPlan

__all__ = ["RecordSink", "add_records"]


class RecordSink(Protocol):
    """Where records go: a :class:`~streams.round_sender.RoundSender` (the doctest above
    prints them instead)."""

    def add(self, topic: str, partition: int, key: bytes | None, value: bytes) -> None:
        """Keep one record for ``topic``'s ``partition``."""


def add_records(sender: RecordSink, plan: TopicPlan, decision: Decision, partition: int) -> None:
    """Add ``decision``'s tier change (with the model version that scored it), alerts and
    matured outcomes to ``sender``, for the borrower's ``partition`` of their topics."""
    key = decision.borrower_id.encode()
    change = decision.tier_change
    if change is not None:
        body = {**change.to_dict(), "model_version": decision.model_version}
        sender.add(plan.tier_changes.name, partition, key, json_bytes(body))
    for alert in decision.alerts:
        sender.add(plan.alert_topic(alert.queue), partition, key, json_bytes(alert.to_dict()))
    for outcome in decision.outcomes:
        sender.add(plan.model_outcomes.name, partition, key,
                   outcome_message(decision.borrower_id, outcome))  # fmt: skip
