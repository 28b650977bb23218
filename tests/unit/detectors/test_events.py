"""Contract v1 parsing: valid events, extras kept, and errors that name the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.events import (
    ContactStatus,
    EventError,
    NewBorrowing,
    Repayment,
    event_to_dict,
    parse_event,
)

REPAYMENT: dict[str, Any] = {
    "event_id": "e1", "event_type": "repayment", "borrower_id": "b1",
    "occurred_at": "2024-03-01T09:00:00+08:00", "schema_version": 1, "loan_id": "L1",
    "due_date": "2024-02-29", "amount_due": 100, "amount_paid": 10.5, "days_past_due": 3,
    "minimum_due": 10, "outstanding_balance": 900, "credit_limit": 1000,
    "paid_by_third_party": True,
}  # fmt: skip
BORROWING: dict[str, Any] = {
    "event_id": "e2", "event_type": "new_borrowing", "borrower_id": "b1",
    "occurred_at": "2024-03-01T09:00:00Z", "lender_id": "X", "lender_type": "p2p",
    "kind": "credit_inquiry", "amount": 0, "overdue_days_elsewhere": 12,
}  # fmt: skip
CONTACT: dict[str, Any] = {
    "event_id": "e3", "event_type": "contact_status", "borrower_id": "b1",
    "occurred_at": "2024-03-01T09:00:00.123456-05:00", "channel": "app", "status": "suspended",
}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "kind"), [(REPAYMENT, Repayment), (BORROWING, NewBorrowing), (CONTACT, ContactStatus)]
)
def test_valid_events_parse_and_round_trip(raw: dict[str, Any], kind: type) -> None:
    event = parse_event(json.dumps(raw).encode())
    assert type(event) is kind
    assert event.occurred_at.tzinfo is not None
    assert parse_event(json.dumps(event_to_dict(event))) == event


def test_optional_fields_default() -> None:
    minimal = {k: REPAYMENT[k] for k in list(REPAYMENT)[:10]}
    event = parse_event(json.dumps(minimal))
    assert isinstance(event, Repayment)
    assert event.minimum_due is None and event.paid_by_third_party is False
    assert "minimum_due" not in event_to_dict(event)


def test_unknown_fields_are_kept_and_ignored() -> None:
    event = parse_event(json.dumps({**CONTACT, "dialer": {"campaign": 7}}))
    assert event.extra == {"dialer": {"campaign": 7}}
    assert event_to_dict(event)["dialer"] == {"campaign": 7}


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"amount_due": -1}, "amount_due", "must be >= 0"),
        ({"amount_paid": "10"}, "amount_paid", "must be a number"),
        ({"amount_paid": True}, "amount_paid", "must be a number"),
        ({"days_past_due": 1.5}, "days_past_due", "whole number"),
        ({"credit_limit": 0}, "credit_limit", "must be > 0"),
        ({"due_date": "2024-02-30"}, "due_date", "YYYY-MM-DD"),
        ({"occurred_at": "2024-03-01T09:00:00"}, "occurred_at", "offset"),
        ({"occurred_at": "yesterday"}, "occurred_at", "RFC 3339"),
        ({"event_type": "refund"}, "event_type", "unknown value"),
        ({"event_id": ""}, "event_id", "non-empty string"),
        ({"schema_version": 2}, "schema_version", "unsupported"),
        ({"paid_by_third_party": "yes"}, "paid_by_third_party", "true or false"),
        ({"loan_id": None}, "loan_id", "missing"),
    ],
)
def test_bad_repayments_name_the_field(change: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event(json.dumps({**REPAYMENT, **change}))
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (json.dumps({**BORROWING, "lender_type": "pawnshop"}), "lender_type"),
        (json.dumps({**BORROWING, "overdue_days_elsewhere": -2}), "overdue_days_elsewhere"),
        (json.dumps({**CONTACT, "status": "lost"}), "status"),
        (json.dumps({**CONTACT, "channel": None}), "channel"),
        ("{not json", None),
        ("[1, 2]", None),
        (b"\xff\xfe", None),
    ],
)
def test_other_bad_input_is_rejected(raw: str | bytes, field: str | None) -> None:
    with pytest.raises(EventError) as caught:
        parse_event(raw)
    assert caught.value.field == field


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([REPAYMENT, BORROWING, CONTACT]),
    st.data(),
    # orjson reads a whole number beyond 64 bits as a float: extras keep 64-bit ones exactly.
    st.dictionaries(st.sampled_from(["dialer", "source", "note", "x_trace"]),
                    st.integers(-(2**63), 2**64 - 1)),
)  # fmt: skip
def test_extras_are_exactly_the_unknown_fields_whatever_else_is_left_out_or_null(
    raw: dict[str, Any], data: st.DataObject, unknown: dict[str, int]
) -> None:
    dropped = data.draw(st.sets(st.sampled_from(sorted(raw))))
    nulled = data.draw(st.sets(st.sampled_from(sorted(raw))))
    obj = {k: (None if k in nulled else v) for k, v in raw.items() if k not in dropped}
    try:
        event = parse_event(json.dumps({**obj, **unknown}))
    except EventError:
        return  # a required field went missing: rejected, as other tests check
    assert event.extra == unknown
