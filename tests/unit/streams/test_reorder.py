"""Properties of the reorder buffer that puts the input topics back into event-time order."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from streams.reorder import ReorderBuffer

SOURCES = ("repayment", "borrowing", "contact")
arrivals = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(SOURCES), st.integers(0, 50)), max_size=60
)


def filled(items: list[tuple[int, str, int]], hold_s: float = 0.25) -> ReorderBuffer[tuple]:
    buffer: ReorderBuffer[tuple] = ReorderBuffer(SOURCES, hold_s=hold_s)
    for number, (partition, source, occurred_at) in enumerate(items):
        buffer.add(partition, source, float(occurred_at), received_at=0.0,
                   item=(partition, occurred_at, number))  # fmt: skip
    return buffer


@given(arrivals)
def test_everything_goes_in_event_time_order_once_every_topic_is_caught_up(
    items: list[tuple[int, str, int]],
) -> None:
    released = filled(items).release(now=10.0, caught_up=lambda *_: True)
    assert sorted(number for *_, number in released) == list(range(len(items)))
    for partition in range(3):
        mine = [(occurred_at, number) for p, occurred_at, number in released if p == partition]
        assert mine == sorted(mine)  # event time, then arrival


@given(arrivals)
def test_while_a_topic_has_unread_messages_nothing_passes_the_watermark(
    items: list[tuple[int, str, int]],
) -> None:
    buffer = filled(items)
    marks = {partition: buffer.watermark(partition) for partition in range(3)}
    released = buffer.release(now=10.0, caught_up=lambda *_: False)
    assert all(occurred_at <= marks[partition] for partition, occurred_at, _ in released)
    if not items:
        assert marks == dict.fromkeys(range(3), -math.inf)


def test_caught_up_is_asked_about_a_moment_a_hold_after_the_arrival() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(SOURCES, hold_s=0.5)
    buffer.add(0, "repayment", occurred_at=5.0, received_at=2.0, item="r@5")
    asked: list[tuple[int, str, float]] = []

    def caught_up(partition: int, source: str, since: float) -> bool:
        asked.append((partition, source, since))
        return True

    assert buffer.release(now=2.4, caught_up=caught_up) == []  # within the hold
    assert asked == []
    assert buffer.release(now=2.6, caught_up=caught_up) == ["r@5"]
    assert sorted(asked) == [(0, "borrowing", 2.5), (0, "contact", 2.5)]
