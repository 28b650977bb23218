"""Consumer lag of the input topics: ``loanwatch_consumer_lag_messages{topic}``.

A timer (every ``LOANWATCH_LAG_INTERVAL_S``, 5 s) takes the end offsets of the input
partitions this worker holds, which the pipeline reads from the broker several times a
second (``streams.pipeline.log_ends``), and subtracts the group's committed offsets (the
read offsets while nothing is committed yet). Each worker reports only its own partitions,
and 0 for an input topic it holds none of, so summing the gauge over workers gives the
group's lag without double counting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from streams import metrics
from streams.app import app
from streams.pipeline import log_ends
from streams.settings import get_settings
from streams.topics import INPUT_NAMES

log = structlog.get_logger(__name__)
settings = get_settings()
INPUT_TOPICS = tuple(settings.topic(f"events.{short}") for short in INPUT_NAMES.values())


def lag_by_topic(
    ends: Mapping[Any, int], consumed: Mapping[Any, int | None], topics: Iterable[str]
) -> dict[str, int]:
    """Messages behind per topic: end offset minus the consumed offset of each partition.

    Keys of ``ends`` and ``consumed`` are topic partitions (anything with ``.topic``); a
    partition with no consumed offset yet counts from its start, a negative difference
    (an end offset older than a fresh commit) as 0.

    >>> from faust.types import TP
    >>> ends = {TP("t", 0): 10, TP("t", 1): 5, TP("u", 0): 3}
    >>> lag_by_topic(ends, {TP("t", 0): 7, TP("t", 1): None, TP("u", 0): 4}, ["t", "u", "v"])
    {'t': 8, 'u': 0, 'v': 0}
    """
    lag = dict.fromkeys(topics, 0)
    for tp, end in ends.items():
        if tp.topic in lag:
            lag[tp.topic] += max(0, end - (consumed.get(tp) or 0))
    return lag


def measure_lag() -> dict[str, int]:
    """The lag of this worker's input partitions, from the broker's end offsets."""
    consumer = app.consumer
    held = [tp for tp in consumer.assignment() if tp.topic in INPUT_TOPICS]
    if not held:
        return dict.fromkeys(INPUT_TOPICS, 0)
    ends = {tp: log_ends[tp] for tp in held if tp in log_ends}
    # Faust's records of the group's commits and of what it has read (not on ConsumerT).
    committed: Mapping[Any, int | None] = getattr(consumer, "_committed_offset", {})
    read: Mapping[Any, int | None] = getattr(consumer, "_read_offset", {})
    consumed = {tp: c if (c := committed.get(tp)) is not None else read.get(tp) for tp in held}
    return lag_by_topic(ends, consumed, INPUT_TOPICS)


@app.timer(interval=settings.lag_interval_s)  # type: ignore[untyped-decorator]
async def report_lag() -> None:
    """Refresh the consumer-lag gauge."""
    try:
        lag = measure_lag()
    except Exception as error:  # not started yet, or rebalancing: try again next tick
        log.debug("consumer lag unavailable", error=str(error))
        return
    for topic, messages in lag.items():
        metrics.CONSUMER_LAG.labels(topic=topic).set(messages)
