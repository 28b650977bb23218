"""Faust's Kafka consumer with a batch path: a fetch's records of chosen topics in one list.

Faust hands every fetched record to its streams one at a time: a conductor lookup, a channel
queue, a ``wait_first`` with two tasks and a stream step per message, about 150-250 us of a
worker's one core per event whatever the agent does (measured: a quarter of a worker's
samples while it drained a backlog). For the topics routed here, :class:`BatchConsumer`
skips all of it: each fetch's records of those topics become Faust messages and go to their
:class:`MessageBatches` as one list. Records of every other topic (the heartbeat) still go
Faust's way, and Faust keeps everything else: the consumer group and its co-partitioned
assignment, offsets committed from acknowledged messages, tables and their recovery.

Whoever takes a list from :class:`MessageBatches` owns its messages: ``message.ack(consumer)``
marks one done, so that Faust commits its offset once every earlier offset is done too.
A message never acknowledged is read again by the partition's next owner.

>>> async def two_fetches_one_round() -> list[list[str]]:
...     batches = MessageBatches(max_messages=100)
...     await batches.put(["m1", "m2"]); await batches.put(["m3"])
...     return [arrival.messages for arrival in await batches.take(limit=10)]
>>> asyncio.run(two_fetches_one_round())
[['m1', 'm2'], ['m3']]
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NamedTuple, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from mode import Service, ServiceT

__all__ = ["Arrival", "BatchConsumer", "BatchTransport", "LoanwatchApp", "MessageBatches"]


class Arrival(NamedTuple):
    """One fetch's messages and when they were queued (``time.monotonic()``): a round that
    takes them later still knows how long they have been here.

    >>> Arrival(at=1.5, messages=["m1"]).at
    1.5
    """

    at: float
    messages: list[Message]


class MessageBatches:
    """Message lists queued for the taker, bounded by the messages they hold.

    A bound on messages, not on lists: a live stream's fetches are small (a few records
    each), and a round must be able to take all that arrived while the previous one ran.
    While ``max_messages`` wait, :meth:`put` waits, which holds the consumer's fetch loop
    back and leaves the rest at the broker rather than in memory.
    """

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._lists: deque[Arrival] = deque()
        self._queued = 0
        self._changed = asyncio.Condition()

    async def put(self, batch: list[Message]) -> None:
        """Queue ``batch``, once fewer than ``max_messages`` wait."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._queued < self.max_messages)
            self._lists.append(Arrival(time.monotonic(), batch))
            self._queued += len(batch)
            self._changed.notify_all()

    async def take(self, limit: int) -> list[Arrival]:
        """Wait for a list, then take the queued lists up to the one reaching ``limit``
        messages."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._lists))
            taken: list[Arrival] = []
            count = 0
            while self._lists and count < limit:
                arrival = self._lists.popleft()
                taken.append(arrival)
                count += len(arrival.messages)
            self._queued -= count
            self._changed.notify_all()
            return taken


class LoanwatchApp(faust.App):
    """A Faust app whose consumer delivers the topics of :meth:`route_batches` in batches.

    >>> app = LoanwatchApp("example", broker="kafka://127.0.0.1:1")
    >>> app.route_batches(app.topic("a", "b"), MessageBatches(max_messages=10))
    >>> sorted(app.batch_routes), type(app.transport).__name__
    (['a', 'b'], 'BatchTransport')
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_routes: dict[str, MessageBatches] = {}

    def route_batches(self, topic: faust.TopicT, batches: MessageBatches) -> None:
        """Subscribe to ``topic`` (all its names) and deliver its records to ``batches``."""
        if topic.pattern is not None:
            raise ValueError("a batch route takes topics by name, not by pattern")
        for name in topic.topics:
            self.batch_routes[name] = batches
        self.topics.add(topic)  # what an agent iterating the topic would do: subscribe

    def _new_transport(self) -> Any:
        return BatchTransport(self.conf.broker_consumer, self)


class BatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer whose fetch loop hands routed topics over in batches.

    >>> BatchTransport.Consumer is BatchConsumer
    True
    """

    async def _drain_messages(self, fetcher: ServiceT) -> None:  # pragma: no cover
        # Faust's own loop (transport/consumer.py) less the per-message work for routed
        # topics. Unlike it, no record is dropped for an offset at or below one read before:
        # the taker decides what it has seen (streams.pipeline.admit), and Faust's "gap"
        # bookkeeping is not fed (an offset must be acknowledged to be committed).
        routes = cast(LoanwatchApp, self.app).batch_routes
        consumer_stopped = cast(Service, self)._stopped.is_set
        fetcher_stopped = cast(Service, fetcher)._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                records, active = await self._wait_next_records(timeout=1.0)
                await self.sleep(0)  # a fetch that returns at once must not starve the loop
                if not records or self.should_stop:
                    continue
                if not self.flow_active:
                    await self.perform_seek()  # as Faust's getmany: a rebalance is under way
                    continue
                await self._deliver(records, active, routes)
                commit_every = self._commit_every
                if commit_every is not None and self._n_acked >= commit_every:
                    self._n_acked = 0
                    await self.commit()
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise

    async def _deliver(self, records: Mapping[TP, list[Any]], active: set[TP] | None,
                       routes: dict[str, MessageBatches]) -> None:  # fmt: skip
        generation = self.app.consumer_generation_id
        to_message = self._to_message
        monitor = self.app.monitor
        batches: dict[MessageBatches, list[Message]] = {}
        for tp, tp_records in records.items():
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                continue  # paused or revoked since the fetch: read again when resumed
            monitor.track_tp_end_offset(tp, self.highwater(tp))
            queue = routes.get(tp.topic)
            if queue is None:
                await self._deliver_one_by_one(tp, tp_records)
                continue
            batches.setdefault(queue, []).extend(to_message(tp, record) for record in tp_records)
            self._read_offset[tp] = tp_records[-1].offset
            # What a stream records as it takes an event: Faust's "stream idle" check reads it.
            monitor.stream_inbound_time[tp] = time.monotonic()
        for queue, batch in batches.items():
            if generation != self.app.consumer_generation_id or not self.flow_active:
                return  # fetched before a rebalance: the new owners read these again
            await self.wait_first(queue.put(batch), self.suspend_flow.wait())

    async def _deliver_one_by_one(self, tp: TP, tp_records: Iterable[Any]) -> None:
        callback, to_message = self.callback, self._to_message
        for record in tp_records:
            message = to_message(tp, record)
            await self.wait_first(callback(message), self.suspend_flow.wait())
            self._read_offset[tp] = message.offset


class BatchTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with :class:`BatchConsumer`."""

    Consumer: ClassVar[type[BatchConsumer]] = BatchConsumer
