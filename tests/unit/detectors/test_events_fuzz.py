"""Hypothesis fuzzing of the contract-v1 parser: whatever it is given, it either returns an
event the rest of the pipeline can carry (UTF-8 strings without NUL, finite non-negative
amounts, plausible dates) or raises :class:`EventError`, never anything else.

The streaming reliability suite (``tests/reliability/test_bad_input.py``) sends the same
kinds of breakage through Kafka; this is the pure, fast half.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.events import EventError, event_to_dict, parse_event

GOOD: dict[str, dict[str, Any]] = {
    "repayment": {
        "event_id": "e1", "event_type": "repayment", "borrower_id": "b1",
        "occurred_at": "2024-03-01T09:00:00+08:00", "loan_id": "L1", "due_date": "2024-02-29",
        "amount_due": 100, "amount_paid": 10.5, "days_past_due": 3, "minimum_due": 10,
        "outstanding_balance": 900, "credit_limit": 1000,
    },
    "new_borrowing": {
        "event_id": "e2", "event_type": "new_borrowing", "borrower_id": "b1",
        "occurred_at": "2024-03-01T09:00:00Z", "lender_id": "X", "lender_type": "p2p",
        "amount": 0, "overdue_days_elsewhere": 12,
    },
    "contact_status": {
        "event_id": "e3", "event_type": "contact_status", "borrower_id": "b1",
        "occurred_at": "2024-03-01T09:00:00-05:00", "channel": "app", "status": "suspended",
    },
}  # fmt: skip

# Values that break a field: wrong types, odd numbers, odd strings, far dates.
odd_strings = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec=None, categories=None), max_size=8),
    st.sampled_from(["", "\x00", "b\x00", "\ud800", "a\udfffb", "\u202e", "🦀", " " * 3,
                     "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                     "1900-01-01T00:00:00Z", "2400-01-01T00:00:00Z", "0001-01-01",
                     "9999-12-31", "2024-02-30", "NaN", "x" * 5000]),
)  # fmt: skip
odd_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), odd_strings,
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2),
)  # fmt: skip


@st.composite
def broken_events(draw: st.DrawFn) -> dict[str, Any]:
    """A good event with some fields replaced by odd values or removed."""
    event = dict(GOOD[draw(st.sampled_from(sorted(GOOD)))])
    for name in draw(st.lists(st.sampled_from([*sorted(event), "extra_field"]), min_size=1,
                              max_size=3)):  # fmt: skip
        if draw(st.booleans()):
            event.pop(name, None)
        else:
            event[name] = draw(odd_values)
    return event


def check_carriable(raw: bytes | str | dict[str, Any]) -> None:
    """Parse ``raw``: an EventError, or an event whose every value the pipeline can store."""
    try:
        event = parse_event(raw)
    except EventError as error:
        assert str(error)
        return
    # Unknown extra fields are kept but never used or stored (docs/events.md), so only the
    # contract's own fields must be carriable.
    body = {k: v for k, v in event_to_dict(event).items() if k not in event.extra}
    text = json.dumps(body, allow_nan=False)  # NaN or infinity would raise here
    text.encode("utf-8")  # unpaired surrogates would raise here
    for value in body.values():
        if isinstance(value, str):
            assert "\x00" not in value, "PostgreSQL text cannot hold NUL"
        if isinstance(value, float):
            assert math.isfinite(value) and value >= 0
    assert datetime(1970, 1, 1, tzinfo=UTC) <= event.occurred_at < datetime(2101, 1, 1, tzinfo=UTC)
    assert parse_event(text) == parse_event(body)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_events())
def test_broken_events_are_rejected_or_safe(event: dict[str, Any]) -> None:
    check_carriable(event)
    check_carriable(json.dumps(event, allow_nan=True))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_but_event_error(raw: bytes) -> None:
    check_carriable(raw)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(GOOD)), st.integers(min_value=1, max_value=200))
def test_truncated_json_is_rejected(kind: str, cut: int) -> None:
    text = json.dumps(GOOD[kind]).encode()
    truncated = text[: max(0, len(text) - cut)]
    try:
        parse_event(truncated)
    except EventError:
        return
    raise AssertionError(f"truncated JSON was accepted: {truncated!r}")


@given(st.sampled_from(["NaN", "Infinity", "-Infinity", "-0.5", "-1", "1e400"]),
       st.sampled_from(["amount_due", "amount_paid", "minimum_due"]))  # fmt: skip
def test_nan_infinite_and_negative_amounts_are_rejected(literal: str, name: str) -> None:
    text = json.dumps(GOOD["repayment"]).replace(
        f'"{name}": {json.dumps(GOOD["repayment"][name])}', f'"{name}": {literal}'
    )
    try:
        parse_event(text)
    except EventError as error:
        # NaN and Infinity are not JSON at all for a strict decoder; others name the field
        assert error.field in (name, None)
        return
    raise AssertionError(f"{name}={literal} was accepted")


@given(st.sampled_from(["event_type", "occurred_at", "amount_due", "schema_version"]),
       st.sampled_from(["x", "é", "\U0001f980"]))  # fmt: skip
def test_reasons_stay_short_whatever_the_bad_value(name: str, char: str) -> None:
    event = {**GOOD["repayment"], name: char * 200_000}
    try:
        parse_event(json.dumps(event))
    except EventError as error:
        assert len(str(error)) <= len(name) + 2 + 300
        return
    raise AssertionError(f"a huge {name} was accepted")
