"""The worker's cache of decoded states: bounded, least recently used out first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.state import BorrowerState
from streams.state_cache import StateCache


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=200),
       st.integers(min_value=1, max_value=8))  # fmt: skip
def test_holds_the_most_recently_used_states_up_to_capacity(keys: list[int], capacity: int) -> None:
    cache = StateCache(capacity)
    for key in keys:
        name = str(key).encode()
        if cache.get(name) is None:
            cache.put(name, BorrowerState(str(key)))
    recent: list[int] = []
    for key in reversed(keys):
        if key not in recent:
            recent.append(key)
    assert len(cache) == min(capacity, len(recent))
    for key in recent[:capacity]:
        state = cache.get(str(key).encode())
        assert state is not None and state.borrower_id == str(key)


def test_discard_and_clear_forget_states() -> None:
    cache = StateCache(4)
    cache.put(b"a", BorrowerState("a"))
    cache.put(b"b", BorrowerState("b"))
    cache.discard(b"a")
    cache.discard(b"zz")
    assert cache.get(b"a") is None and cache.get(b"b") is not None
    cache.clear()
    assert len(cache) == 0


def test_a_cache_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        StateCache(0)
