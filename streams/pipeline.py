"""The monitoring agent: input events through the detectors engine into tiers and alerts.

One agent reads the three input topics (co-partitioned by ``borrower_id``) in batches. For
each batch it

1. parses each message (a bad one goes to its dead-letter topic and table with its original
   bytes and the reason, and the batch goes on);
2. runs ``Monitor.process`` with the borrower's state from the ``borrowers`` table (backed by
   its changelog topic) and writes the new state back;
3. writes the batch's rows to PostgreSQL (retrying, so an outage pauses the agent);
4. sends tier changes, alerts, dead letters and matured outcomes to Kafka and waits for the
   broker's acknowledgements;

and only then moves on, which lets Faust commit the batch's offsets. A crash anywhere before
that redelivers the batch: the state may already hold those events, so the engine reports
them as duplicates carrying their first decision, whose outputs are sent again; rows and
messages keep their ids, so PostgreSQL holds each once and consumers can drop repeats.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import faust
import structlog
from faust.streams import Stream

from detectors.decision import Decision
from detectors.engine import Monitor
from detectors.events import EventError, parse_event
from detectors.models.inputs import DEFAULT_ENCODER
from detectors.policy import load_policy
from detectors.state import BorrowerState
from streams import metrics
from streams.app import app
from streams.history import HistorySink
from streams.messages import dead_letter_headers, json_bytes
from streams.modelsync import LiveModels, Trainer, follow_snapshots, outcome_message, run_forever
from streams.settings import get_settings
from streams.topics import TopicPlan

log = structlog.get_logger(__name__)
settings = get_settings()
policy = load_policy(settings.policy_path)
plan = TopicPlan(settings, policy)
live = LiveModels(policy)
engine = Monitor(policy, scorer=live, anomaly=live, encoder=DEFAULT_ENCODER)
sink = HistorySink(settings.database_url)

RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes,
                       "key_serializer": "raw", "value_serializer": "raw"}  # fmt: skip
events = app.topic(*(spec.name for spec in plan.inputs.values()),
                   partitions=settings.topic_partitions, **RAW)  # fmt: skip
# bytes keys and values: Faust stores them raw (state bytes carry their own format version)
borrowers = app.Table("borrowers", default=None, partitions=settings.topic_partitions,
                      key_type=bytes, value_type=bytes)  # fmt: skip
tier_changes = app.topic(plan.tier_changes.name, **RAW)
alerts = {queue: app.topic(plan.alert_topic(queue), **RAW) for queue in plan.queues}
dead_letters = {kind: app.topic(spec.name, **RAW) for kind, spec in plan.dead_letters.items()}
outcomes = app.topic(plan.model_outcomes.name, partitions=1, **RAW)
EVENT_TYPE_OF_TOPIC = {spec.name: kind for kind, spec in plan.inputs.items()}


@app.agent(events)
async def monitor(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Process the input topics batch by batch (see the module docstring)."""
    assert isinstance(stream, Stream)  # take_events is on the class, not the protocol
    async for batch in stream.take_events(settings.batch_size, within=settings.batch_within_s):
        sends: list[Awaitable[Any]] = []
        appended: list[float] = []
        for event in batch:
            # Table writes go to the changelog partition of the "current" event, which
            # take_events does not set for each event of a batch.
            stream._set_current_event(event)
            sends.extend(await handle(event))
            appended.append(event.message.timestamp)
        stream._set_current_event(None)
        await sink.flush()
        await asyncio.gather(*[await send for send in sends])
        done = time.time()
        for timestamp in appended:
            metrics.INGEST_TO_OUTPUT.observe(max(0.0, done - timestamp))
        yield None


async def handle(event: faust.EventT[bytes]) -> list[Awaitable[Any]]:
    """Process one message; return the sends it produced (not yet awaited)."""
    message = event.message
    kind = EVENT_TYPE_OF_TOPIC[message.topic]
    raw: bytes = message.value or b""
    try:
        parsed = parse_event(raw)
        if parsed.event_type != kind:
            raise EventError("event_type", f"'{parsed.event_type}' does not go on {message.topic}")
        if message.key != parsed.borrower_id.encode():
            raise EventError(None, "the message key must be the event's borrower_id")
    except EventError as error:
        return [dead_letter(kind, message, str(error))]
    key = message.key
    stored = borrowers.get(key)
    state = BorrowerState.from_bytes(stored) if stored else None
    state, decision = engine.process(state, parsed)
    if decision.duplicate:
        metrics.EVENTS.labels(event_type=kind, outcome="duplicate").inc()
        return emit(decision.earlier) if decision.earlier is not None else []
    borrowers[key] = state.to_bytes()
    metrics.EVENTS.labels(event_type=kind, outcome="processed").inc()
    metrics.DECISION_LAG.observe(max(0.0, time.time() - decision.occurred_at.timestamp()))
    sends = emit(decision)
    for outcome in decision.outcomes:
        sends.append(outcomes.send(key=key, value=outcome_message(decision.borrower_id, outcome)))
        metrics.OUTCOMES_PUBLISHED.inc()
    return sends


def emit(decision: Decision) -> list[Awaitable[Any]]:
    """Buffer the decision's rows and start sending its tier change and alerts."""
    sink.add_decision(decision)
    key = decision.borrower_id.encode()
    sends: list[Awaitable[Any]] = []
    change = decision.tier_change
    if change is not None:
        body = {**change.to_dict(), "model_version": decision.model_version}
        sends.append(tier_changes.send(key=key, value=json_bytes(body)))
        metrics.TIER_TRANSITIONS.labels(from_tier=change.previous_tier or "none",
                                        to_tier=change.tier).inc()  # fmt: skip
    for alert in decision.alerts:
        sends.append(alerts[alert.queue].send(key=key, value=json_bytes(alert.to_dict())))
        metrics.ALERTS.labels(queue=alert.queue, reason=alert.reasons[0] if alert.reasons
                              else "none").inc()  # fmt: skip
    return sends


def dead_letter(kind: str, message: Any, reason: str) -> Awaitable[Any]:
    """Record a rejected message and start sending it, unchanged, to its dead-letter topic."""
    metrics.EVENTS.labels(event_type=kind, outcome="dead_letter").inc()
    metrics.DEAD_LETTERS.labels(source=kind).inc()
    value: bytes = message.value or b""
    sink.add_dead_letter(message.topic, message.partition, message.offset, reason, value,
                         message.key)  # fmt: skip
    headers = dead_letter_headers(reason, message.topic, message.partition, message.offset)
    return dead_letters[kind].send(key=message.key, value=value, headers=headers)


@app.task
async def follow_models() -> None:
    """Keep this worker scoring with the newest published model snapshot."""
    await run_forever("snapshot follower", lambda: follow_snapshots(
        settings.kafka_bootstrap, plan.model_snapshots.name, live))  # fmt: skip


@app.task
async def train_models() -> None:
    """Take part in the trainer's consumer group; the holder of its partition trains."""
    trainer = Trainer(
        policy, settings.kafka_bootstrap, f"{settings.app_id}-trainer",
        plan.model_outcomes.name, plan.model_snapshots.name,
        HistorySink(settings.database_url), settings.model_snapshot_every,
    )  # fmt: skip
    await run_forever("trainer", trainer.run)


@app.timer(interval=15.0)
async def count_tiers() -> None:
    """Refresh the portfolio-wide tier counts from PostgreSQL."""
    try:
        counts = await sink.borrowers_by_tier()
    except Exception as error:  # the sink's own retries report outages; this is a gauge
        log.warning("tier counts unavailable", error=str(error))
        return
    for tier in "ABCD":
        metrics.BORROWERS_BY_TIER.labels(tier=tier).set(counts.get(tier, 0))
