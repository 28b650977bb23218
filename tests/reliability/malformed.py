"""A seeded generator of malformed input messages, each checked to be one the pipeline must
dead-letter.

Every message starts from a good simulated event and is broken one way: broken JSON, invalid
UTF-8, JSON that is not an object, a wrong type, a missing field, a huge string, odd unicode
(NUL, unpaired surrogates), a negative, NaN or infinite amount, a date far in the past or
future, an unknown event type or schema version, an event on the wrong topic, a wrong or
missing key. The pipeline's own rules (``streams.pipeline.admit``: the contract, the topic,
the key) decide what "malformed" means; the generator asserts each message breaks them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from detectors.events import EventError, parse_event

# Field names per event type whose values are required.
REQUIRED = {
    "repayment": ["event_id", "borrower_id", "occurred_at", "loan_id", "due_date",
                  "amount_due", "amount_paid", "days_past_due"],
    "new_borrowing": ["event_id", "borrower_id", "occurred_at", "lender_id", "lender_type"],
    "contact_status": ["event_id", "borrower_id", "occurred_at", "channel", "status"],
}  # fmt: skip
AMOUNTS = {"repayment": ["amount_due", "amount_paid", "minimum_due", "outstanding_balance"],
           "new_borrowing": ["amount"], "contact_status": []}  # fmt: skip
WRONG_TYPES: list[Any] = [True, [], {}, "12", 3.5, -1, None, {"$gt": 0}, ["x"], "", 0]
FAR_DATES = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "1066-10-14T09:00:00Z",
             "2999-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2101-01-01T00:00:00+00:00"]
FAR_DAYS = ["0001-01-01", "9999-12-31", "1900-02-28", "2500-06-30"]
ODD_TEXT = ["\x00", "b\x00", "\ud800", "x\udfff", "\ud83d"]
UNICODE_NOISE = "\u202e\u200b\ufeff\U0001f980ǅ\u0301\uffff"
Broken = tuple[bytes | None, bytes]  # (key, value)
Breaker = Callable[[random.Random, dict[str, Any], str], Broken]


def is_rejected(kind: str, key: bytes | None, value: bytes) -> bool:
    """Whether the pipeline dead-letters this message on the topic of ``kind``."""
    try:
        event = parse_event(value)
    except EventError:
        return True
    return event.event_type != kind or key != event.borrower_id.encode()


def _dump(event: dict[str, Any]) -> bytes:
    return json.dumps(event, allow_nan=True).encode("utf-8", "surrogatepass")


def _key(event: dict[str, Any]) -> bytes:
    return str(event.get("borrower_id", "")).encode("utf-8", "surrogatepass")


def broken_json(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    text = _dump(event)
    return _key(event), text[: rng.randrange(0, len(text) - 1)]


def not_utf8(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    text = bytearray(_dump(event))
    text[rng.randrange(len(text))] = rng.choice([0xFF, 0xC3, 0x80, 0xFE])
    return _key(event), bytes(text)


def not_an_object(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    value = rng.choice([b"[]", b"null", b"42", b'"repayment"', b"true", b"", b" ",
                        b"[" + _dump(event) + b"]", b"\x00\x01\x02", b"NaN"])  # fmt: skip
    return _key(event), value


def wrong_type(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    name = rng.choice(REQUIRED[kind])
    event[name] = rng.choice([v for v in WRONG_TYPES if v is not None])
    return _key(event), _dump(event)


def missing_field(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    name = rng.choice([*REQUIRED[kind], "event_type"])
    event.pop(name)
    return _key(event), _dump(event)


def huge_string(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    # Mostly large (tens of KB); a few so large that payload and reason together pass 1 MB.
    size = rng.choice([20_000, 50_000, 100_000]) if rng.random() < 0.97 else 600_000
    name = rng.choice(["event_type", "occurred_at", *AMOUNTS[kind][:1], "schema_version"])
    char = rng.choice("xé€\U0001f980")
    event[name] = char * (size // (len(json.dumps(char)) - 2))  # JSON escapes non-ASCII
    return _key(event), _dump(event)


def odd_unicode(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    name = rng.choice(["event_id", "borrower_id", REQUIRED[kind][3]])
    event[name] = str(event.get(name, "x")) + rng.choice(ODD_TEXT)
    if name == "borrower_id" and rng.random() < 0.5:
        event[name] = UNICODE_NOISE + event[name]
    return _key(event), _dump(event)


def bad_amount(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    if not AMOUNTS[kind]:
        event["event_type"] = "contact-status"
        return _key(event), _dump(event)
    event[rng.choice(AMOUNTS[kind])] = rng.choice(
        [-1, -0.01, -1e308, float("nan"), float("inf"), float("-inf")]
    )
    return _key(event), _dump(event)


def far_date(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    if kind == "repayment" and rng.random() < 0.4:
        event["due_date"] = rng.choice(FAR_DAYS)
    else:
        event["occurred_at"] = rng.choice(FAR_DATES)
    return _key(event), _dump(event)


def unknown_type(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    if rng.random() < 0.3:
        event["schema_version"] = rng.choice([0, 2, "1", 1.5, True])
    else:
        event["event_type"] = rng.choice(["payment", "REPAYMENT", "delete_borrower", "", 1])
    return _key(event), _dump(event)


def wrong_topic(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    # A valid event of another type: the caller sends it to ``kind``'s topic.
    return _key(event), _dump(event)


def wrong_key(rng: random.Random, event: dict[str, Any], kind: str) -> Broken:
    key = rng.choice([None, b"", _key(event) + b"x", b"b" + _key(event)[1:].upper(),
                      b"\xff\xfe", b"some-other-borrower"])  # fmt: skip
    return key, _dump(event)


BREAKERS: list[Breaker] = [broken_json, not_utf8, not_an_object, wrong_type, missing_field,
                           huge_string, odd_unicode, bad_amount, far_date, unknown_type,
                           wrong_topic, wrong_key]  # fmt: skip


def malformed(
    rng: random.Random, good: list[dict[str, Any]]
) -> tuple[str, bytes | None, bytes, str]:
    """One malformed message: (event type of the target topic, key, value, breaker name)."""
    while True:
        breaker = rng.choice(BREAKERS)
        event = dict(rng.choice(good))
        kind = event["event_type"]
        key, value = breaker(rng, event, kind)
        if breaker is wrong_topic:
            kind = rng.choice([k for k in REQUIRED if k != kind])
        if is_rejected(kind, key, value):
            return kind, key, value, breaker.__name__
