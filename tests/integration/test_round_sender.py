"""The round sender against the real broker: batches per topic partition, order, offsets."""

from __future__ import annotations

import asyncio

import pytest

from streams.round_sender import RoundSender
from streams.topics import TopicSpec, create_topics, records_to_end
from tests.conftest import Stack

pytestmark = pytest.mark.integration


def test_records_arrive_in_order_on_their_partitions_with_the_last_offsets_reported(
    stack: Stack,
) -> None:
    outputs, single = f"{stack.topic_prefix}sender.outputs", f"{stack.topic_prefix}sender.one"
    create_topics(stack.kafka_bootstrap, [TopicSpec(outputs, 4), TopicSpec(single, 1)])

    async def two_rounds() -> list[dict[tuple[str, int], int]]:
        # Small batches: a round's partition needs several of them, as a changelog's does.
        sender = RoundSender(stack.kafka_bootstrap, batch_bytes=2048)
        reported = []
        try:
            for round_number in range(2):
                for n in range(300):
                    key = f"b{n % 7}".encode()
                    value = f"{round_number}:{n}:".encode() + b"x" * 40
                    sender.add(outputs, n % 7, key, value, [("n", str(n).encode())])
                sender.add(single, 5, b"b5", f"outcome {round_number}".encode())
                delivered = await sender.send()
                reported.append(dict(await delivered))
        finally:
            await sender.close()
        return reported

    first, second = asyncio.run(two_rounds())

    records = records_to_end(stack.kafka_bootstrap, outputs)
    assert len(records) == 600
    for record in records:  # partition 4, 5, 6 of a 4-partition topic wrap round to 0, 1, 2
        number = int(dict(record.headers)["n"])
        assert record.partition == (number % 7) % 4
        assert record.key == f"b{number % 7}".encode()
    for partition in range(4):
        on_it = sorted((r for r in records if r.partition == partition), key=lambda r: r.offset)
        for key in {r.key for r in on_it}:  # each key's records in the order they were added
            added = [tuple(int(part) for part in r.value.split(b":")[:2])
                     for r in on_it if r.key == key]  # fmt: skip
            assert added == sorted(added) and len(added) in (84, 86)
        assert first[(outputs, partition)] == len(on_it) // 2 - 1
        assert second[(outputs, partition)] == len(on_it) - 1
    outcomes = records_to_end(stack.kafka_bootstrap, single)
    assert [r.value for r in outcomes] == [b"outcome 0", b"outcome 1"]
    assert (first[(single, 0)], second[(single, 0)]) == (0, 1)
