"""The raw ceiling for the pipeline benchmark: consume, order, engine, produce, nothing else.

A plain aiokafka loop over the same input topics with the same engine a worker builds
(``LiveModels`` scoring, inputs encoded for learning), producing the records the pipeline
produces from its decisions (tier changes, alerts and matured outcomes, by the same
:func:`~streams.decision_records.add_records`) to output topics of its own, a record batch
per partition as the pipeline does (:class:`~streams.round_sender.RoundSender`). No Faust,
no state changelog, no database, no offsets committed: what Python, the engine and the
Kafka clients can do on this machine, against which the pipeline's own throughput is read
(``pipeline_to_ceiling_ratio``). The garbage collector is tuned as in a worker
(:mod:`streams.collector`), so that the ratio compares the pipelines, not their settings.

Events go to the engine in event-time order per partition, through the pipeline's own
:class:`~streams.reorder.ReorderBuffer` (a topic partition counts as caught up once read to
the end offset it had at the start), so the ceiling makes the pipeline's decisions. Decided
in arrival order instead, which outcomes matured followed how the three topics' fetches
interleaved: its runs sent 162,000-216,000 records against the pipeline's 211,077, and the
runs that sent fewer were up to a third faster (``bench/RESULTS.md``, round 14).
"""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from detectors.engine import Monitor
from detectors.events import Event, EventError, parse_event
from detectors.models.inputs import DEFAULT_ENCODER
from detectors.policy import Policy
from detectors.state import BorrowerState
from streams.collector import collecting_rarely
from streams.decision_records import add_records
from streams.kafka_security import aiokafka_kwargs
from streams.reorder import ReorderBuffer
from streams.round_sender import RoundSender
from streams.topics import TopicPlan

__all__ = ["run_ceiling"]


async def run_ceiling(bootstrap: str, inputs: TopicPlan, outputs: TopicPlan, policy: Policy,
                      events: int, timeout_s: float = 600.0) -> dict[str, Any]:  # fmt: skip
    """Read ``events`` messages of ``inputs``' input topics from the beginning, decide each,
    send the outputs to ``outputs``' topics; return events/s from first message to last ack."""
    from streams.modelsync import LiveModels  # the worker's scorer, as the pipeline uses it

    live = LiveModels(policy)
    engine = Monitor(policy, scorer=live, anomaly=live, encoder=DEFAULT_ENCODER)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024, **aiokafka_kwargs(),
    )  # fmt: skip
    sender = RoundSender(bootstrap)  # as the pipeline sends: a record batch per partition
    await consumer.start()
    try:
        partitions = [TopicPartition(spec.name, partition) for spec in inputs.inputs.values()
                      for partition in range(spec.partitions)]  # fmt: skip
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        with collecting_rarely():
            return await _consume_decide_produce(consumer, sender, engine, outputs, starts,
                                                 ends, events, timeout_s)  # fmt: skip
    finally:
        await consumer.stop()
        await sender.close()


async def _consume_decide_produce(consumer: AIOKafkaConsumer, sender: RoundSender,
                                  engine: Monitor, outputs: TopicPlan,
                                  starts: dict[TopicPartition, int],
                                  ends: dict[TopicPartition, int], events: int,
                                  timeout_s: float) -> dict[str, Any]:  # fmt: skip
    states: dict[str, BorrowerState] = {}
    reorder: ReorderBuffer[tuple[int, Event]] = ReorderBuffer(
        sorted({tp.topic for tp in ends}), hold_s=0.0
    )
    read_to: dict[TopicPartition, int] = dict(starts)  # per topic partition: the next offset

    def caught_up(partition: int, topic: str, since: float) -> bool:
        tp = TopicPartition(topic, partition)
        return read_to[tp] >= ends[tp]

    seen = rejected = sent = 0
    started: float | None = None
    deadline = time.monotonic() + timeout_s
    while seen < events:
        if time.monotonic() > deadline:
            raise TimeoutError(f"ceiling read {seen} of {events} events in {timeout_s} s")
        batches = await consumer.getmany(timeout_ms=500, max_records=5000)
        if started is None and batches:
            started = time.perf_counter()
        received = time.monotonic()
        for tp, records in batches.items():
            held: list[tuple[float, tuple[int, Event]]] = []
            for record in records:
                seen += 1
                try:
                    event = parse_event(record.value or b"")
                except EventError:
                    rejected += 1
                    continue
                held.append((event.ts, (record.partition, event)))
            reorder.add_all(tp.partition, tp.topic, received, held)
            read_to[tp] = records[-1].offset + 1
        for partition, event in reorder.release(received, caught_up):
            state, decision = engine.process(states.get(event.borrower_id), event)
            states[event.borrower_id] = state
            add_records(sender, outputs, decision, partition)
        sent += sender.pending
        await (await sender.send())
    if len(reorder):  # every topic partition was read to its end: nothing may wait
        raise RuntimeError(f"ceiling left {len(reorder)} events undecided")
    seconds = time.perf_counter() - (started or time.perf_counter())
    return {"events": seen, "rejected": rejected, "outputs": sent, "seconds": round(seconds, 3),
            "events_per_second": round(seen / seconds, 1) if seconds else None}  # fmt: skip
