"""Decoded borrower states a worker keeps between events, least recently used out first.

The ``borrowers`` table holds each state as bytes; decoding them for every event cost more
than the engine itself. The cache holds the decoded objects of recently active borrowers;
a state that falls out is decoded from the table again when its borrower comes back.

>>> from detectors.state import BorrowerState
>>> cache = StateCache(capacity=2)
>>> for name in (b"a", b"b", b"c"):
...     cache.put(name, BorrowerState(name.decode()))
>>> cache.get(b"a") is None, cache.get(b"c").borrower_id, len(cache)
(True, 'c', 2)
"""

from __future__ import annotations

from collections import OrderedDict

from detectors.state import BorrowerState

__all__ = ["StateCache"]


class StateCache:
    """At most ``capacity`` decoded states by borrower key."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a state cache holds at least 1 state, not {capacity}")
        self.capacity = capacity
        self._states: OrderedDict[bytes, BorrowerState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, key: bytes) -> BorrowerState | None:
        """The cached state of ``key``, marked as just used; None when not cached."""
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def put(self, key: bytes, state: BorrowerState) -> None:
        """Cache ``state`` as the newest; the least recently used goes beyond capacity."""
        self._states[key] = state
        self._states.move_to_end(key)
        if len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def discard(self, key: bytes) -> None:
        """Forget ``key``'s state (if cached): it is decoded from the table when next needed."""
        self._states.pop(key, None)

    def clear(self) -> None:
        """Forget every state."""
        self._states.clear()
