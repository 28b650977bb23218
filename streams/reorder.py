"""Event-time order across the co-partitioned input topics.

Kafka keeps order within a topic partition, but a borrower's repayment, borrowing and contact
events travel on three topics, and a consumer can read one topic's partition ahead of
another's. The buffer holds events per partition and releases them in ``occurred_at`` order:
an event goes as soon as every input topic of its partition has delivered something at least
as recent (the watermark). When a topic lags behind, the event waits for it while that topic
still has unread messages (catching up on a backlog, where a wall-clock timeout would release
events before older ones on the slower topic were read); once the topic has nothing unread,
the event goes after ``hold_s`` seconds, so an idle topic delays the others by at most
``hold_s``. An event that arrives after a later one was released is processed as a late
event (the engine places it by event time).

Pure: the caller passes the clock and says which topic partitions are caught up, judged by
end offsets read at least ``hold_s`` after the held event was received (so that everything
sent before it is counted, even what reached the broker up to ``hold_s`` later). A topic
that has unread messages but delivers none must not stall the others: the caller reports it
as caught up once it has stalled long enough (the pipeline: ``LOANWATCH_REORDER_MAX_HOLD_S``
without progress), never merely because an event has waited long, which would break the
order of a backlog that is read slowly but steadily.

>>> buffer = ReorderBuffer(("repayment", "contact"), hold_s=0.5)
>>> buffer.add(0, "repayment", occurred_at=20.0, received_at=0.0, item="r@20")
>>> buffer.add(0, "contact", occurred_at=10.0, received_at=0.0, item="c@10")
>>> busy = lambda partition, source, since: False     # contact still has unread messages
>>> buffer.release(now=0.1, caught_up=busy)    # contact has reached 10 only: r@20 waits
['c@10']
>>> buffer.release(now=2.0, caught_up=busy)    # ... while contact has a backlog
[]
>>> buffer.release(now=2.0, caught_up=lambda partition, source, since: True)
['r@20']
>>> len(buffer)
0
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from itertools import count
from operator import itemgetter
from typing import Generic, TypeVar

T = TypeVar("T")
# A held entry is (occurred_at, arrival sequence, received_at, item).
_OCCURRED_AT = itemgetter(0)
_ITEM = itemgetter(3)


class ReorderBuffer(Generic[T]):
    """Per-partition heaps of held items, ordered by event time then arrival."""

    def __init__(self, sources: Sequence[str], hold_s: float) -> None:
        self.sources = tuple(sources)
        self.hold_s = hold_s
        self._heaps: dict[int, list[tuple[float, int, float, T]]] = {}
        self._latest: dict[tuple[int, str], float] = {}
        self._sequence = count()

    def __len__(self) -> int:
        return sum(len(heap) for heap in self._heaps.values())

    def add(self, partition: int, source: str, occurred_at: float, received_at: float,
            item: T) -> None:  # fmt: skip
        """Hold ``item`` (from ``source``'s ``partition``) until it may be released."""
        self.add_all(partition, source, received_at, [(occurred_at, item)])

    def add_all(self, partition: int, source: str, received_at: float,
                items: Sequence[tuple[float, T]]) -> None:  # fmt: skip
        """Hold each ``(occurred_at, item)`` of ``items`` (from ``source``'s ``partition``,
        in the order they were read) until it may be released.

        >>> b = ReorderBuffer(("a",), 1.0); b.add_all(0, "a", 0.0, [(2.0, "x"), (1.0, "y")])
        >>> b.release(now=0.0, caught_up=lambda *_: False), b.watermark(0)
        (['y', 'x'], 2.0)
        """
        if not items:
            return
        key = (partition, source)
        latest = max(occurred_at for occurred_at, _ in items)
        if latest > self._latest.get(key, -math.inf):
            self._latest[key] = latest
        heap = self._heaps.get(partition)
        if heap is None:
            heap = self._heaps[partition] = []
        sequence = self._sequence
        for occurred_at, item in items:
            heappush(heap, (occurred_at, next(sequence), received_at, item))

    def watermark(self, partition: int) -> float:
        """The event time every source of ``partition`` has reached (-inf if one is silent).

        >>> ReorderBuffer(("a", "b"), 1.0).watermark(3)
        -inf
        """
        return min(self._latest.get((partition, source), -math.inf) for source in self.sources)

    def release(self, now: float, caught_up: Callable[[int, str, float], bool]) -> list[T]:
        """Items that may go now, each partition's in event-time order.

        ``caught_up(partition, source, since)`` says whether ``source``'s ``partition`` had
        been read to its end as of some moment after ``since``: ``hold_s`` after a held
        item's arrival, so that what was sent before it and reaches the broker up to
        ``hold_s`` later is counted.
        """
        released: list[T] = []
        for partition, heap in self._heaps.items():
            mark = self.watermark(partition)
            if heap and heap[0][0] <= mark:
                # All that the watermark passed goes at once: sorted (a sorted list is still a
                # heap) and cut, rather than popped one by one (a backlog's round releases
                # thousands).
                heap.sort()
                cut = bisect_right(heap, mark, key=_OCCURRED_AT)
                released.extend(map(_ITEM, heap[:cut]))
                del heap[:cut]
            while heap and self._expired(partition, heap[0], now, caught_up):
                released.append(heappop(heap)[3])
        return released

    def _expired(self, partition: int, top: tuple[float, int, float, T], now: float,
                 caught_up: Callable[[int, str, float], bool]) -> bool:  # fmt: skip
        occurred_at, _, received_at, _ = top
        if received_at + self.hold_s > now:
            return False
        behind = (s for s in self.sources
                  if self._latest.get((partition, s), -math.inf) < occurred_at)  # fmt: skip
        return all(caught_up(partition, source, received_at + self.hold_s) for source in behind)

    def next_expiry(self, after: float) -> float:
        """The earliest end of a hold later than ``after``, among the items that go next
        (each partition's first), or ``inf``: when a reading of the log ends could release
        one (an item goes no sooner than the one before it).

        >>> b = ReorderBuffer(("a",), hold_s=1.0); b.add(0, "a", 5.0, received_at=2.0, item="x")
        >>> b.next_expiry(after=0.0), b.next_expiry(after=3.0)
        (3.0, inf)
        """
        ends = (heap[0][2] + self.hold_s for heap in self._heaps.values() if heap)
        return min((end for end in ends if end > after), default=math.inf)

    def drop_partitions(self, partitions: set[int]) -> list[T]:
        """Forget the held items of partitions this worker no longer owns (a rebalance);
        they were not acknowledged, so their new owner reads them again.

        >>> b = ReorderBuffer(("a",), 1.0); b.add(2, "a", 1.0, 0.0, "x")
        >>> b.drop_partitions({2}), len(b)
        (['x'], 0)
        """
        dropped: list[T] = []
        for partition in partitions:
            dropped.extend(item for *_, item in self._heaps.pop(partition, []))
            for source in self.sources:
                self._latest.pop((partition, source), None)
        return dropped
