"""A round's output records, sent as one record batch per topic partition.

A round of a few thousand events makes thousands of records: tier changes, alerts, dead
letters, outcomes and state changelog records. Sent one by one, each costs the producer a
future, a partitioner call and an accumulator append (about a tenth of a worker's time,
measured). :class:`RoundSender` collects them per topic partition and hands each partition's
records to aiokafka as a ready record batch (``create_batch`` / ``send_batch``).

Every record names its partition: a borrower's records go to the borrower's input partition
(as Faust's state changelog does), taken modulo the topic's partition count, so all of a
borrower's outputs stay in order on one partition and no key is hashed again.

>>> sender = RoundSender("127.0.0.1:1")
>>> sender.add("alerts", 3, b"b1", b'{"alert_id": "a1"}')   # sent with the next send()
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

import faust
from aiokafka import AIOKafkaProducer

from streams.kafka_security import aiokafka_kwargs

__all__ = ["RoundSender"]

Headers = Iterable[tuple[str, bytes]]
# (key, value, headers) of one record
Record = tuple[bytes | None, bytes, Headers]


class RoundSender:
    """Collects records with :meth:`add`; :meth:`send` starts sending them all at once.

    >>> RoundSender("127.0.0.1:1", batch_bytes=4096).batch_bytes   # connects on first send
    4096
    """

    def __init__(self, bootstrap: str, batch_bytes: int = 512 * 1024) -> None:
        self.bootstrap = bootstrap
        self.batch_bytes = batch_bytes
        self._records: dict[tuple[str, int], list[Record]] = {}
        self._partitions: dict[str, int] = {}
        self._producer: AIOKafkaProducer | None = None

    @classmethod
    def of_app(cls, app: faust.App, bootstrap: str) -> RoundSender:
        """One that disconnects when ``app`` shuts down."""
        sender = cls(bootstrap)

        async def close(*_: Any, **__: Any) -> None:
            await sender.close()

        app.on_before_shutdown.connect(close)
        return sender

    def add(self, topic: str, partition: int, key: bytes | None, value: bytes,
            headers: Headers = ()) -> None:  # fmt: skip
        """Keep one record for ``topic``'s ``partition`` (modulo its partition count)."""
        self._records.setdefault((topic, partition), []).append((key, value, headers))

    @property
    def pending(self) -> int:
        """How many records the next :meth:`send` takes.

        >>> sender = RoundSender("127.0.0.1:1")
        >>> sender.add("alerts", 0, b"b1", b"{}"); sender.add("alerts", 1, b"b2", b"{}")
        >>> sender.pending
        2
        """
        return sum(map(len, self._records.values()))

    async def send(self) -> Awaitable[Mapping[tuple[str, int], int]]:
        """Start sending every record added so far; awaiting the result waits for the
        broker's acknowledgements and gives each topic partition's last offset.

        The records are taken first: records added meanwhile go with the next send, and a
        send that fails is not retried (the round's messages are then never acknowledged
        and are read again).
        """
        records, self._records = self._records, {}
        producer = await self._started()
        deliveries: list[tuple[tuple[str, int], int, asyncio.Future[Any]]] = []
        for (topic, partition), batch in records.items():
            partition %= await self._partition_count(topic)
            for count, builder in self._builders(producer, batch):
                delivery = await producer.send_batch(builder, topic, partition=partition)
                deliveries.append(((topic, partition), count, delivery))
        return self._last_offsets(deliveries)

    def _builders(self, producer: AIOKafkaProducer,
                  batch: list[Record]) -> Iterable[tuple[int, Any]]:  # fmt: skip
        """Record batches of at most ``batch_bytes`` holding ``batch``, with their sizes."""
        builder, count = producer.create_batch(), 0
        for key, value, headers in batch:
            # A full batch refuses the record; an empty one takes any record, whatever its
            # size, so this goes round at most twice.
            while builder.append(timestamp=None, key=key, value=value,
                                 headers=list(headers)) is None:  # fmt: skip
                yield count, builder
                builder, count = producer.create_batch(), 0
            count += 1
        if count:
            yield count, builder

    @staticmethod
    async def _last_offsets(deliveries: list[tuple[tuple[str, int], int, asyncio.Future[Any]]]
                            ) -> Mapping[tuple[str, int], int]:  # fmt: skip
        last: dict[tuple[str, int], int] = {}
        for tp, count, delivery in deliveries:
            metadata = await delivery
            last[tp] = max(last.get(tp, -1), metadata.offset + count - 1)
        return last

    async def _partition_count(self, topic: str) -> int:
        count = self._partitions.get(topic)
        if count is None:
            producer = await self._started()
            count = self._partitions[topic] = len(await producer.partitions_for(topic))
        return count

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", max_batch_size=self.batch_bytes,
                max_request_size=2 * self.batch_bytes, **aiokafka_kwargs(),
            )  # fmt: skip
            await producer.start()
            self._producer = producer
        return self._producer

    async def close(self) -> None:
        """Disconnect (a later send connects again)."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
