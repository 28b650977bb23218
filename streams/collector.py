"""The cyclic garbage collector, tuned for processes that hold many borrower states.

A worker holds millions of small long-lived objects (the decoded-state cache) and makes
millions of short-lived ones a minute, nearly all freed by reference counting. With the
default thresholds, full collections rescanned everything every few seconds: 19% of a
worker's CPU while draining a backlog (measured with ``gc.callbacks``), against 4% with
thresholds of 100,000 / 50 / 100 and what was loaded at start-up frozen (never scanned
again).

A young collection scans every young object, and on a backlog most of those are the round
in flight, not garbage: a round of tens of thousands of events holds each event's record,
parsed event, held entry and outputs until its writes are done. At 100,000 young objects a worker
collected about once a round, 50 ms each, 8% of its CPU; :data:`THRESHOLDS` lets a million
pile up (with rounds of 20,000: none in a 200,000-event drain, two in 600,000, the longest
0.7 s, 7-8% less CPU per event in alternating drains; with rounds of 50,000, one in a
200,000-event drain, 2.5% of a profile's samples), and collects the middle generation
every fifth young collection, about as often in allocations as before.

Those thresholds let many young objects (new history rows, model snapshots) pile up before a
collection, which then holds the worker for a while: on a live stream at 2,000 events/s,
pauses of 85-160 ms made the slowest 1% of alerts. :func:`follow_load` switches a worker
keeping up with a live stream to :data:`LIVE_THRESHOLDS` (pauses of 10-35 ms), and back
when a backlog's large rounds come, where frequent collections cost 10% of throughput.

>>> with collecting_rarely():
...     gc.get_threshold() == THRESHOLDS
True
>>> gc.get_threshold() == THRESHOLDS
False
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "LIVE_ROUND",
    "LIVE_THRESHOLDS",
    "THRESHOLDS",
    "collect_rarely",
    "collecting_rarely",
    "follow_load",
]

THRESHOLDS = (1_000_000, 5, 100)
LIVE_THRESHOLDS = (3_000, 10, 100)
# A round of fewer events than this means the worker keeps up with its input (a live
# stream's rounds hold tens of events; a backlog's, the batch size).
LIVE_ROUND = 500


def collect_rarely() -> None:
    """Freeze what exists now and raise the collector's thresholds, for the process's life."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def follow_load(round_events: int) -> None:
    """After a round of ``round_events`` events: :data:`LIVE_THRESHOLDS` when it was a live
    stream's, :data:`THRESHOLDS` when a backlog's.

    >>> with collecting_rarely():
    ...     follow_load(40)
    ...     live = gc.get_threshold()
    ...     follow_load(5000)
    ...     live == LIVE_THRESHOLDS, gc.get_threshold() == THRESHOLDS
    (True, True)
    """
    wanted = LIVE_THRESHOLDS if round_events < LIVE_ROUND else THRESHOLDS
    if gc.get_threshold() != wanted:
        gc.set_threshold(*wanted)


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """:func:`collect_rarely` for a block, with the collector as it was afterwards."""
    before = gc.get_threshold()
    collect_rarely()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
