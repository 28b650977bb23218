"""The cyclic garbage collector, tuned for processes that hold many borrower states.

A worker holds millions of small long-lived objects (the decoded-state cache) and makes
millions of short-lived ones a minute, nearly all freed by reference counting. With the
default thresholds, full collections rescanned everything every few seconds: 19% of a
worker's CPU while draining a backlog (measured with ``gc.callbacks``), against 4% with
:data:`THRESHOLDS` and what was loaded at start-up frozen (never scanned again).

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

__all__ = ["THRESHOLDS", "collect_rarely", "collecting_rarely"]

THRESHOLDS = (100_000, 50, 100)


def collect_rarely() -> None:
    """Freeze what exists now and raise the collector's thresholds, for the process's life."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


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
