"""End offsets of topic partitions, asked of the broker by a client of their own.

Faust's consumer runs in a thread of its own and serves one request at a time, so its
``highwaters`` waits behind the fetch in progress (up to a second and a half while the
fetcher waits for data). The reorder buffer asks for the input topics' end offsets several
times a second; through Faust's consumer each answer took longer than a round of processing
and stalled the agent. A separate group-less client answers in milliseconds.

>>> ends = LogEnds("127.0.0.1:1")
>>> ends.started
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from streams.kafka_security import aiokafka_kwargs


class LogEnds:
    """A group-less aiokafka client that reads end offsets; started on first use."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._client: AIOKafkaConsumer | None = None

    @classmethod
    def of_app(cls, app: faust.App, bootstrap: str) -> LogEnds:
        """One that disconnects when ``app`` shuts down."""
        ends = cls(bootstrap)

        async def close(sender: Any, *_: Any, **__: Any) -> None:
            await ends.close()

        app.on_before_shutdown.connect(close)  # type: ignore[arg-type]
        return ends

    @property
    def started(self) -> bool:
        """Whether the client is connected."""
        return self._client is not None

    async def of(self, partitions: Iterable[tuple[str, int]]) -> Mapping[tuple[str, int], int]:
        """The end offset of each partition (keys compare equal to Faust's ``TP``)."""
        wanted = [TopicPartition(topic, partition) for topic, partition in partitions]
        if not wanted:
            return {}
        if self._client is None:
            client = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                      **aiokafka_kwargs())  # fmt: skip
            await client.start()
            self._client = client
        ends: dict[tuple[str, int], int] = await self._client.end_offsets(wanted)
        return ends

    async def close(self) -> None:
        """Disconnect (a later call to :meth:`of` connects again)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.stop()
