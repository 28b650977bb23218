"""The monitoring agent: input events through the detectors engine into tiers and alerts.

One task reads the three input topics (co-partitioned by ``borrower_id``) in batches, each
fetch's records a run per topic partition (:mod:`streams.batch_consumer`, not Faust's
per-message streams):

1. each record is parsed; a bad one goes to its dead-letter topic and table with its
   original bytes and the reason, and the batch goes on;
2. good events wait in a :class:`ReorderBuffer` that releases each partition's events in
   event-time order across the three topics (at most ``LOANWATCH_REORDER_HOLD_S`` late);
3. each released event runs through ``Monitor.process`` with the borrower's state, each
   borrower's events of the round together (in their order), and each borrower's new state
   is written once per round to the ``borrowers`` table (backed by its changelog topic).
   Decoded states stay in a bounded cache (:class:`StateCache`), which is emptied whenever
   partitions move: the table is the truth, the cache saves decoding it;
4. together, the round's rows are written to PostgreSQL (retrying, so an outage pauses
   processing), and its tier changes, alerts, dead letters, matured outcomes and state
   changelog records are sent to Kafka, one record batch per topic partition
   (:class:`RoundSender`); the broker's acknowledgements are awaited;

and only then are the records' offsets acknowledged, which lets Faust commit them. A crash
anywhere before that redelivers them: the state may already hold those events, so the engine
reports them as duplicates carrying their first decision, whose outputs are sent again; rows
and messages keep their ids, so PostgreSQL holds each once and consumers can drop repeats.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
import weakref
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from operator import attrgetter, itemgetter
from typing import Any, TypeAlias, TypeVar, cast

import faust
import structlog
from aiokafka.structs import ConsumerRecord
from faust.events import Event as FaustEvent
from faust.streams import _current_event
from faust.types import TP, Message

from detectors.decision import Decision
from detectors.engine import Monitor
from detectors.events import Event, EventError, parse_event
from detectors.models.inputs import DEFAULT_ENCODER
from detectors.policy import load_policy, policy_data
from detectors.state import BorrowerState
from streams import metrics
from streams.app import app
from streams.batch_consumer import BatchConsumer, Fetched, MessageBatches
from streams.collector import follow_load
from streams.decision_records import add_records
from streams.history import HistorySink
from streams.log_ends import LogEnds
from streams.messages import dead_letter_headers
from streams.modelsync import (
    LiveModels,
    follow_snapshots,
    run_forever,
    trainer_for,
)
from streams.reorder import ReorderBuffer
from streams.round_sender import RoundSender
from streams.settings import get_settings
from streams.state_cache import StateCache
from streams.topics import TopicPlan

log = structlog.get_logger(__name__)
T = TypeVar("T")
K = TypeVar("K")
settings = get_settings()
policy = load_policy(settings.policy_path)
plan = TopicPlan(settings, policy)
live = LiveModels(policy)
engine = Monitor(policy, scorer=live, anomaly=live, encoder=DEFAULT_ENCODER)
sink = HistorySink(settings.database_url)
end_offsets = LogEnds.of_app(app, settings.kafka_bootstrap)

RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes,
                       "key_serializer": "raw", "value_serializer": "raw"}  # fmt: skip
events = app.topic(*(spec.name for spec in plan.inputs.values()),
                   partitions=settings.topic_partitions, **RAW)  # fmt: skip
inputs = MessageBatches(max_messages=settings.input_queue_messages)
app.route_batches(events, inputs)
# bytes keys and values: Faust stores them raw (state bytes carry their own format version)
borrowers = app.Table("borrowers", default=None, partitions=settings.topic_partitions,
                      key_type=bytes, value_type=bytes)  # fmt: skip
EVENT_TYPE_OF_TOPIC = {spec.name: kind for kind, spec in plan.inputs.items()}


Record: TypeAlias = ConsumerRecord[bytes, bytes]
reorder: ReorderBuffer[tuple[Record, Event]] = ReorderBuffer(
    tuple(EVENT_TYPE_OF_TOPIC), hold_s=settings.reorder_hold_s
)
# The monitor task and the release timer both process; one at a time keeps each borrower's
# events in order and the table, sink and sends of a round together.
processing = asyncio.Lock()
outputs = RoundSender.of_app(app, settings.kafka_bootstrap)  # the round's records, batched
rejected: list[Record] = []  # dead-lettered this round: acknowledged with it
in_flight: asyncio.Future[None] | None = None  # the last round's writes and acknowledgements
states = StateCache(settings.state_cache_size)
tally = metrics.RoundMetrics()  # the round's metrics, written to the registry with it
# The states this round changed, each borrower's once: its last event of the round, its key
# and the state's new bytes.
changed: list[tuple[Record, bytes, bytes]] = []
decided: list[Event] = []  # the round's events decided (not duplicates): counted at its end
# Keys and fields read for every record, as C callables rather than lambdas.
TIMESTAMP = attrgetter("timestamp")
TOPIC_PARTITION = attrgetter("topic", "partition")
OFFSET = attrgetter("offset")
FIRST = itemgetter(0)
EVENT_TYPE = attrgetter("event_type")
EVENT_TS = attrgetter("ts")
next_offset: dict[TP, int] = {}  # per input topic partition: the offset after the last admitted
log_ends: dict[TP, int] = {}  # per input topic partition: its end offset (follow_log_ends)
# per input topic partition with unread messages: since when, or since its last admission
behind_since: dict[TP, float] = {}
rereading: dict[TP, int] = {}  # input topic partitions being read again, from this offset
sought: dict[TP, int] = {}  # the offset each was last sought back to
log_ends_at = -math.inf  # when the last answer came
log_ends_asked_at = -math.inf  # when it was asked for: it counts messages sent before then
REFETCH_CHECK_S = 5.0
LOG_ENDS_EVERY_S = settings.reorder_hold_s / 4  # the longest between two end-offset readings


@app.task
async def monitor() -> None:
    """Admit each fetch's records (with those queued behind it, up to a round's
    ``LOANWATCH_BATCH_SIZE``) into the reorder buffer and process what it releases.

    An event's hold runs from its fetch's arrival, not from its admission: the time it
    waited for the round before to finish counts (a live event arrives while a round runs).

    No waiting for a batch to fill: on a live stream a round starts as soon as a fetch
    arrives, on a backlog the fetches queue up while a round runs. An error in a round
    crashes the worker (its unacknowledged records are read again after a restart).
    """
    arrivals = await inputs.take(settings.batch_size)
    metrics.FIRST_INPUT_TAKEN_AT.set_to_current_time()
    while True:
        async with processing:
            for received, runs in arrivals:
                for run in runs:
                    admit(run, received)
            await seek_back()
            await process_released()
        arrivals = await inputs.take(settings.batch_size)


@app.timer(interval=settings.reorder_hold_s / 2)
async def release_held() -> None:
    """Every half hold: :func:`release_ready`."""
    await release_ready()


async def release_ready() -> None:
    """Release events whose hold expired while no new batch arrived, and finish the last
    round of a stream that went quiet (not called from a timer's own loop: a function
    decorated with ``app.timer`` is that loop)."""
    if processing.locked():
        return  # a round is under way, and releases what it can
    async with processing:
        if len(reorder):
            await process_released()
        else:
            await finish_round()


def admit(run: Fetched, received: float) -> None:
    """Parse one fetch's records of a topic partition: a bad one is dead-lettered now, a
    good one waits in the buffer.

    A record is acknowledged only with the round that processed (or dead-lettered) it, so
    Faust commits its offset only then.
    """
    if run.generation != app.consumer_generation_id:
        # Taken before a rebalance, after its partition was revoked (and forgotten): the
        # partition's owner reads it again from the committed offset. Never acknowledged,
        # or its offset would count as done should the partition come back here.
        return
    tp = run.tp
    records = in_sequence(tp, run.records)
    if not records:
        return
    if tp in behind_since:
        behind_since[tp] = time.monotonic()  # admitted now, whenever it arrived
    kind = EVENT_TYPE_OF_TOPIC[tp.topic]
    held: list[tuple[float, tuple[Record, Event]]] = []
    for record in records:
        try:
            parsed = parse_event(record.value or b"")
            if parsed.event_type != kind:
                raise EventError("event_type", f"'{parsed.event_type}' does not go on {tp.topic}")
            if record.key != parsed.borrower_id.encode():
                raise EventError(None, "the message key must be the event's borrower_id")
        except EventError as error:
            dead_letter(kind, record, str(error))
            rejected.append(record)
            continue
        held.append((parsed.ts, (record, parsed)))
    reorder.add_all(tp.partition, tp.topic, received, held)


def in_sequence(tp: TP, records: list[Record]) -> list[Record]:
    """The records of ``tp`` that come next: each offset once, in order, none skipped.

    A fetch that goes on from the last admitted offset without a hole (the usual case) is
    taken whole. Otherwise, record by record: an offset admitted already is dropped, and one
    past the next expected means Faust skipped records: the partition is read again from
    the expected offset (:func:`seek_back`), and these copies are dropped, never
    acknowledged, so an offset is committed only once its admitted copy is done.
    """
    expected = next_offset.get(tp)
    first, last = records[0].offset, records[-1].offset
    if (expected is None or first == expected) and last - first == len(records) - 1:
        rereading.pop(tp, None)
        next_offset[tp] = last + 1
        return records
    taken: list[Record] = []
    for record in records:
        if expected is not None and record.offset != expected:
            if record.offset > expected and rereading.get(tp) != expected:
                log.warning("input offsets skipped; reading them again", topic=tp.topic,
                            partition=tp.partition, start=expected, end=record.offset)  # fmt: skip
                metrics.INPUT_REFETCHES.inc()
                rereading[tp] = expected
            continue
        rereading.pop(tp, None)
        expected = next_offset[tp] = record.offset + 1
        taken.append(record)
    return taken


async def process_released() -> None:
    """Process released events and start writing the round's outputs.

    The round's writes go out together: the rows to PostgreSQL, the outputs to the broker,
    and the states to the changelog, which must hold them before the offsets that produced
    them may be committed (or a restart would restore a state that lacks committed events).
    Its records are acknowledged once all of them are done. Meanwhile the next round is
    processed: at most one round is in flight behind the one being processed, so a slow
    database or broker slows processing down rather than letting unacknowledged rounds
    pile up.
    """
    global in_flight
    released = reorder.release(time.monotonic(), caught_up)
    metrics.REORDER_HELD.set(len(reorder))
    if not released and not rejected:
        return  # nothing to write (a live stream's fetch whose events all wait)
    # Borrower by borrower (see handle_borrower), each borrower's events in release order.
    for key, events in grouped(released, lambda item: cast(bytes, item[0].key)).items():
        handle_borrower(key, events)
    follow_load(len(released))
    count_decided()
    tally.flush()
    save_changed_states()
    # The rows first: the database writes them while the sends below wait for the broker.
    flushed = asyncio.ensure_future(sink.flush())
    delivered = await outputs.send()
    processed = list(map(FIRST, released))
    writes = asyncio.gather(flushed, states_durable(delivered))
    current = asyncio.ensure_future(acknowledge_when(writes, processed + rejected))
    rejected.clear()
    try:
        await finish_round()
    finally:
        in_flight = current  # awaited by the next round, whatever happened to this one


async def acknowledge_when(writes: Awaitable[Any], records: list[Record]) -> None:
    """Acknowledge a round's processed and dead-lettered records once its writes are done."""
    await writes
    done_ms = time.time_ns() // 1_000_000  # as the records' timestamps: whole milliseconds
    consumer = cast(BatchConsumer, app.consumer)
    for (topic, partition), done in grouped(records, TOPIC_PARTITION).items():
        consumer.ack_offsets(TP(topic, partition), list(map(OFFSET, done)))
    metrics.observe_ages(metrics.INGEST_TO_OUTPUT, done_ms, map(TIMESTAMP, records), unit=1000)
    metrics.INPUTS_ACKNOWLEDGED_AT.set(done_ms / 1000)


async def states_durable(delivered: Awaitable[Mapping[tuple[str, int], int]]) -> None:
    """Wait for the round's records, then record in the table's store how far its
    changelog goes (a ``rocksdb://`` store starts its recovery from there)."""
    changelog = borrowers.changelog_topic.get_topic_name()
    for (topic, partition), offset in (await delivered).items():
        if topic == changelog:  # the table's StoreT
            cast(Any, borrowers.data).set_persisted_offset(TP(topic, partition), offset)


async def finish_round() -> None:
    """Wait for the round in flight: its writes, then its acknowledgements."""
    global in_flight
    if in_flight is not None:
        previous, in_flight = in_flight, None
        started = time.monotonic()
        await previous
        if time.monotonic() - started > 2 * REFETCH_CHECK_S:
            # A database or broker outage held the agent: time spent so does not count as
            # a partition being behind (it would look stalled, or stuck).
            behind_since.clear()


@app.task
async def follow_log_ends() -> None:
    """Read the input partitions' end offsets when a held event's hold ends (it goes at the
    first reading asked after that), and at least every quarter hold (which keeps the
    stall and catch-up checks fresh).

    Not a fixed-interval timer: an event waited up to an interval beyond its hold for the
    next reading.
    """
    while True:
        due = reorder.next_expiry(after=log_ends_asked_at)
        await asyncio.sleep(min(LOG_ENDS_EVERY_S, max(0.0, due - time.monotonic())))
        if not await read_log_ends():
            await asyncio.sleep(LOG_ENDS_EVERY_S)  # a hold that ended is due again at once


async def read_log_ends() -> bool:
    """Keep the input partitions' end offsets from the broker fresh, and release the held
    events the reading shows may go; False when the broker did not answer.

    Not the highwater of the last fetch: Faust pauses fetching from partitions whose stream
    buffer is full, and a paused partition's highwater goes stale while messages pile up.
    Not under the processing lock: rounds go on with the last answer.
    """
    global log_ends_at, log_ends_asked_at
    mine = [tp for tp in app.consumer.assignment() if tp.topic in EVENT_TYPE_OF_TOPIC]
    asked = time.monotonic()
    try:
        ends = await end_offsets.of(mine)
    except Exception as error:  # a broker restart: reconnect at the next tick
        log.warning("input end offsets unavailable", error=str(error))
        await end_offsets.close()
        return False
    now = time.monotonic()
    if now - log_ends_at > 2 * REFETCH_CHECK_S:
        # The event loop was held (a long round): time spent so does not count as a
        # partition being behind. finish_round does the same after a long wait.
        behind_since.clear()
    log_ends_at, log_ends_asked_at = now, asked
    held = app.consumer.assignment()  # a rebalance may have moved partitions meanwhile
    for tp in mine:
        if tp not in ends or tp not in held:
            continue
        log_ends[tp] = ends[tp]
        if admitted_until(tp) >= ends[tp]:
            behind_since.pop(tp, None)
        else:
            behind_since.setdefault(tp, now)
    await release_ready()  # what this reading lets go, now rather than at the next tick
    return True


async def seek_back() -> None:
    """Read again from where :func:`admit` found offsets skipped (once per skip)."""
    for tp, offset in list(rereading.items()):
        if sought.get(tp) != offset and await read_again(tp, offset):
            sought[tp] = offset


async def read_again(tp: TP, offset: int) -> bool:
    """Seek ``tp`` back to ``offset``; False when it is no longer this worker's (a rebalance
    took it: its next owner reads from the committed offset anyway)."""
    if tp not in app.consumer.assignment():
        return False
    try:
        await app.consumer.seek(tp, offset)
    except Exception as error:  # the assignment can move while the seek is on its way
        log.warning("input partition not read again", topic=tp.topic, partition=tp.partition,
                    error=str(error))  # fmt: skip
        return False
    return True


@app.timer(interval=REFETCH_CHECK_S)
async def refetch_stuck_inputs() -> None:
    """Read again an input partition whose unread messages stopped arriving.

    Faust can drop records it had already fetched for a partition while that partition was
    briefly out of its active set, after the Kafka client's position moved past them; they
    would then never arrive (seen as consumer lag that never drains). A partition with
    unread messages and nothing admitted for ``LOANWATCH_INPUT_STUCK_S`` is sought back to
    the offset after its last admitted message; :func:`admit` skips what it already has.
    """
    async with processing:
        now = time.monotonic()
        held = app.consumer.assignment()
        for tp, since in list(behind_since.items()):
            if tp not in held:  # no longer this worker's: its owner watches it
                del behind_since[tp]
                continue
            if now - since < settings.input_stuck_s:
                continue
            offset = admitted_until(tp)
            log.warning("input partition stuck; reading it again", topic=tp.topic,
                        partition=tp.partition, offset=offset)  # fmt: skip
            if await read_again(tp, offset):
                metrics.INPUT_REFETCHES.inc()
                rereading[tp] = sought[tp] = offset
            behind_since[tp] = now


def admitted_until(tp: TP) -> int:
    """The offset after the last message of ``tp`` that :func:`admit` has seen.

    The consumer's own read offset runs ahead of it by the messages fetched but still
    queued for the agent, so it would call a topic caught up while its older events wait in
    the queue. Before the first message since the partition was assigned, reading starts at
    the group's committed offset.
    """
    admitted = next_offset.get(tp)
    if admitted is None:
        admitted = cast(Any, app.consumer)._committed_offset.get(tp) or 0
    return int(admitted)


def caught_up(partition: int, topic: str, since: float) -> bool:
    """Whether this worker has admitted every message the topic partition had at a
    :func:`follow_log_ends` reading asked after ``since`` (the hold after a held event's
    arrival, so that everything sent before it counts), or the partition has stalled:
    unread messages, but nothing admitted for ``LOANWATCH_REORDER_MAX_HOLD_S`` (a stalled
    topic must not stall the others).
    """
    tp = TP(topic, partition)
    end = log_ends.get(tp)
    if end is None or log_ends_asked_at < since:
        return False
    if admitted_until(tp) >= end:
        return True
    stalled_s = time.monotonic() - behind_since.get(tp, time.monotonic())
    if stalled_s >= settings.reorder_max_hold_s:
        metrics.REORDER_STALLS.inc()
        return True
    return False


def grouped(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """``items`` grouped by ``key``, each group in the items' order, the groups in the order
    of their first item.

    >>> grouped(["b1-e1", "b2-e1", "b1-e2"], lambda item: item[:2])
    {'b1': ['b1-e1', 'b1-e2'], 'b2': ['b2-e1']}
    """
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def handle_borrower(key: bytes, events: list[tuple[Record, Event]]) -> None:
    """Run the engine on one borrower's events of the round, in order; their rows and records
    go with the round, and so does the state's new value, encoded here.

    Only a borrower's own events decide its state, so its events need not interleave with
    others': taken together, the state is decided on and then encoded while it is in the
    processor's cache, not once per event and again at the round's end after thousands of
    other states have pushed it out.
    """
    state = states.get(key)
    cached = state is not None
    if state is None:
        stored = borrowers.get(key)
        state = BorrowerState.from_bytes(stored) if stored else None
    last: Record | None = None
    for record, parsed in events:
        try:
            state, decision = engine.process(state, parsed)
        except BaseException:
            states.discard(key)  # the engine updates in place: a failed event leaves it unknown
            raise
        if not cached:  # a cached state is updated in place (and get marked it just used)
            states.put(key, state)
            cached = True
        if decision.duplicate:
            tally.inc(metrics.EVENTS, parsed.event_type, "duplicate")
            if decision.earlier is not None:
                emit(decision.earlier, record.partition)
            continue
        last = record
        decided.append(parsed)
        emit(decision, record.partition)
    if last is not None and state is not None:
        changed.append((last, key, state.to_bytes()))


def count_decided() -> None:
    """Count the round's decided events by type, and observe their event-time lag as of now
    (the round's end): in bulk, not a tally and a clock reading per event."""
    for kind, count in Tally(map(EVENT_TYPE, decided)).items():
        tally.inc(metrics.EVENTS, kind, "processed", amount=count)
    metrics.observe_ages(metrics.DECISION_LAG, time.time(), map(EVENT_TS, decided))
    decided.clear()


def save_changed_states() -> None:
    """Write the round's changed states to the table, each borrower's once, and add their
    changelog records to the round's.

    What ``borrowers[key] = value`` does (the table's store, then its changelog partition,
    the one of the borrower's input partition), without Faust's per-write buffer: a table
    write queues its changelog record behind the others, sent one at a time, and Faust stops
    reading input while more than 100 wait.
    """
    changelog = borrowers.changelog_topic.get_topic_name()
    by_partition = grouped(changed, lambda change: change[0].partition)
    changed.clear()
    store = borrowers.data
    for partition, members in by_partition.items():
        # A rocksdb:// store files each key under the current event's partition: one
        # current event per partition, not per key (it cost 3% of a worker's time).
        with current_event(members[0][0]):
            for _, key, value in members:
                store[key] = value
                outputs.add(changelog, partition, key, value)


def emit(decision: Decision, partition: int) -> None:
    """Buffer the decision's rows, and its records (:func:`add_records`) for the borrower's
    ``partition`` of their topics, and count them."""
    sink.add_decision(decision)
    add_records(outputs, plan, decision, partition)
    change = decision.tier_change
    if change is not None:
        tally.inc(metrics.TIER_TRANSITIONS, change.previous_tier or "none", change.tier)
    for alert in decision.alerts:
        tally.inc(metrics.ALERTS, alert.queue, alert.reasons[0] if alert.reasons else "none")
    if decision.outcomes:
        tally.inc(metrics.OUTCOMES_PUBLISHED, amount=len(decision.outcomes))


def dead_letter(kind: str, record: Record, reason: str) -> None:
    """Record a rejected record and keep it, unchanged, for its dead-letter topic."""
    tally.inc(metrics.EVENTS, kind, "dead_letter")
    tally.inc(metrics.DEAD_LETTERS, kind)
    value: bytes = record.value or b""
    sink.add_dead_letter(record.topic, record.partition, record.offset, reason, value,
                         record.key)  # fmt: skip
    headers = dead_letter_headers(reason, record.topic, record.partition, record.offset)
    outputs.add(plan.dead_letters[kind].name, record.partition, record.key, value, headers)


@app.on_partitions_revoked.connect  # type: ignore[arg-type]
async def forget_revoked(app: faust.App, revoked: set[Any], **_: Any) -> None:
    """Drop held events of partitions given to another worker (it reads them again), and
    every cached state: a partition that comes back may have moved on elsewhere."""
    states.clear()
    dropped = reorder.drop_partitions({tp.partition for tp in revoked
                                       if tp.topic in EVENT_TYPE_OF_TOPIC})  # fmt: skip
    for tp in revoked:
        next_offset.pop(tp, None)
        log_ends.pop(tp, None)
        behind_since.pop(tp, None)
        rereading.pop(tp, None)
        sought.pop(tp, None)
    if dropped:
        log.info("held events of revoked partitions dropped", count=len(dropped))


@contextmanager
def current_event(record: Record) -> Iterator[None]:
    """Make ``record``'s event Faust's current event, as stream iteration would: rounds
    process outside Faust's streams."""
    message = Message(record.topic, record.partition, record.offset, record.timestamp / 1000,
                      record.timestamp_type, record.headers, record.key, record.value,
                      record.checksum)  # fmt: skip
    event = FaustEvent(app, record.key, record.value, record.headers, message)
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


@app.task
async def record_policy() -> None:
    """Record the policy this worker decides with: decisions name its version, the
    ``policy_versions`` table keeps what that version said."""
    document = policy_data(settings.policy_path)
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    recorder = HistorySink(settings.database_url)
    recorder.add_policy(policy.version, digest, document)
    try:
        await recorder.flush()
    finally:
        await recorder.close()


@app.task
async def follow_models() -> None:
    """Keep this worker scoring with the newest published model snapshot."""
    await run_forever("snapshot follower", lambda: follow_snapshots(
        settings.kafka_bootstrap, plan.model_snapshots.name, live))  # fmt: skip


@app.task
async def train_models() -> None:
    """Take part in the trainer's consumer group (the holder of its partition trains),
    unless ``LOANWATCH_TRAIN_IN_WORKER`` is off because a ``loanwatch trainer`` runs."""
    if settings.train_in_worker:
        await run_forever("trainer", trainer_for(settings, policy).run)


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
