"""Faust's Kafka consumer with a batch path: a fetch's records of chosen topics, as they came.

Faust hands every fetched record to its streams one at a time: a conductor lookup, a channel
queue, a ``wait_first`` with two tasks and a stream step per message, about 150-250 us of a
worker's one core per event whatever the agent does (measured: a quarter of a worker's
samples while it drained a backlog). For the topics routed here, :class:`BatchConsumer`
skips all of it: each fetch's records of those topics go to their :class:`MessageBatches`
as one :class:`Fetched` run per topic partition, the Kafka client's own records, not Faust
messages (making one cost about 2 us, and acknowledging it 3 more). Records of every other
topic (the heartbeat) still go Faust's way, and Faust keeps everything else: the consumer
group and its co-partitioned assignment, offsets committed from acknowledged offsets, tables
and their recovery.

Whoever takes a run from :class:`MessageBatches` owns its records:
:meth:`BatchConsumer.ack_offsets` marks offsets done, so that Faust commits a partition's
offset once every earlier offset is done too. An offset never acknowledged is read again by
the partition's next owner.

>>> async def two_fetches_one_round() -> list[list[list[str]]]:
...     batches = MessageBatches(max_messages=100)
...     await batches.put([Fetched(TP("in", 0), 1, ["m1", "m2"])])
...     await batches.put([Fetched(TP("in", 1), 1, ["m3"])])
...     return [[run.records for run in arrival.runs] for arrival in await batches.take(10)]
>>> asyncio.run(two_fetches_one_round())
[[['m1', 'm2']], [['m3']]]
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NamedTuple, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ack_lock
from mode import Service, ServiceT
from mode.utils.futures import notify

__all__ = ["Arrival", "BatchConsumer", "BatchTransport", "Fetched", "LoanwatchApp",
           "MessageBatches"]  # fmt: skip


class Fetched(NamedTuple):
    """One fetch's records of one topic partition, in offset order, and the consumer
    generation they were fetched in (a rebalance since makes them another worker's).

    The records are the Kafka client's (``aiokafka.structs.ConsumerRecord``: ``topic``,
    ``partition``, ``offset``, ``timestamp`` in milliseconds, ``key``, ``value``,
    ``headers``).

    >>> Fetched(TP("in", 3), generation=7, records=[]).tp.partition
    3
    """

    tp: TP
    generation: int
    records: list[Any]


class Arrival(NamedTuple):
    """One fetch's runs and when they were queued (``time.monotonic()``): a round that
    takes them later still knows how long they have been here.

    >>> Arrival(at=1.5, runs=[]).at
    1.5
    """

    at: float
    runs: list[Fetched]


class MessageBatches:
    """Fetches queued for the taker, bounded by the records they hold.

    A bound on records, not on fetches: a live stream's fetches are small (a few records
    each), and a round must be able to take all that arrived while the previous one ran.
    While ``max_messages`` wait, :meth:`put` waits, which holds the consumer's fetch loop
    back and leaves the rest at the broker rather than in memory.
    """

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._lists: deque[Arrival] = deque()
        self._queued = 0
        self._changed = asyncio.Condition()

    async def put(self, runs: list[Fetched]) -> None:
        """Queue one fetch's ``runs``, once fewer than ``max_messages`` records wait."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._queued < self.max_messages)
            self._lists.append(Arrival(time.monotonic(), runs))
            self._queued += sum(len(run.records) for run in runs)
            self._changed.notify_all()

    async def take(self, limit: int) -> list[Arrival]:
        """Wait for a fetch, then take the queued fetches up to the one reaching ``limit``
        records."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._lists))
            taken: list[Arrival] = []
            count = 0
            while self._lists and count < limit:
                arrival = self._lists.popleft()
                taken.append(arrival)
                count += sum(len(run.records) for run in arrival.runs)
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

    def ack_offsets(self, tp: TP, offsets: Iterable[int]) -> None:
        """Mark ``offsets`` of ``tp`` done: what ``message.ack(consumer)`` does for one
        Faust message, for many at once (Faust commits a partition up to its first offset
        not yet done).

        >>> app = LoanwatchApp("example", broker="kafka://127.0.0.1:1")
        >>> app.route_batches(app.topic("in"), MessageBatches(max_messages=10))
        >>> app.topics._acking_topics.add("in")  # as subscribing to it does
        >>> consumer = app.consumer
        >>> consumer.ack_offsets(TP("in", 0), [0, 1, 3])
        >>> consumer._new_offset(TP("in", 0))  # 2 is not done: 0 and 1 may be committed
        2
        """
        if not self.app.topics.acks_enabled_for(tp.topic):
            return
        with ack_lock:  # Faust's own acknowledgements take it too
            committed = self._committed_offset[tp]
            done = self._acked_index[tp]
            fresh = [offset for offset in offsets if offset not in done
                     and (committed is None or offset >= committed)]  # fmt: skip
            done.update(fresh)
            self._acked[tp].extend(fresh)
            self._n_acked += len(fresh)
            notify(self._waiting_for_ack)

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
        monitor = self.app.monitor
        batches: dict[MessageBatches, list[Fetched]] = {}
        for tp, tp_records in records.items():
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                continue  # paused or revoked since the fetch: read again when resumed
            monitor.track_tp_end_offset(tp, self.highwater(tp))
            queue = routes.get(tp.topic)
            if queue is None:
                await self._deliver_one_by_one(tp, tp_records)
                continue
            batches.setdefault(queue, []).append(Fetched(tp, generation, tp_records))
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
