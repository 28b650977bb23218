"""Typed events of contract v1 and their validation.

One JSON object per message; anything malformed is rejected with an :class:`EventError`
that names the field and the problem, so the shell can dead-letter it with its reason.

>>> event = parse_event(
...     '{"event_id": "e1", "event_type": "contact_status", "borrower_id": "b1",'
...     ' "occurred_at": "2024-03-01T09:00:00+00:00", "channel": "phone", "status": "no_answer",'
...     ' "source": "dialer"}'
... )
>>> event.status, event.extra
('no_answer', {'source': 'dialer'})
>>> parse_event(event_to_dict(event)) == event
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

import orjson

from detectors.fields import (
    EventError,
    read_bool,
    read_choice,
    read_count,
    read_date,
    read_number,
    read_str,
    read_timestamp,
)

__all__ = [
    "BORROWING_KINDS",
    "CHANNELS",
    "CONTACT_STATUSES",
    "LENDER_TYPES",
    "ContactStatus",
    "Event",
    "EventError",
    "NewBorrowing",
    "Repayment",
    "event_to_dict",
    "parse_event",
]

LENDER_TYPES: Final = (
    "bank", "consumer_finance", "microloan", "p2p", "bnpl", "credit_card", "other",
)  # fmt: skip
BORROWING_KINDS: Final = ("new_loan", "credit_inquiry")
CHANNELS: Final = ("phone", "sms", "email", "app")
CONTACT_STATUSES: Final = (
    "reachable",
    "no_answer",
    "unreachable",
    "powered_off",
    "number_invalid",
    "suspended",
    "wrong_party",
)
SCHEMA_VERSION: Final = 1
_COMMON: Final = frozenset({"event_id", "event_type", "borrower_id", "occurred_at"})


@dataclass(slots=True, init=False)
class Repayment:
    """A repayment outcome on one of the borrower's loans with us.

    >>> from datetime import date, datetime, timezone
    >>> r = Repayment("e1", "b1", datetime(2024, 3, 1, tzinfo=timezone.utc), "L1",
    ...               date(2024, 2, 28), amount_due=100.0, amount_paid=20.0, days_past_due=0)
    >>> r.event_type, r.minimum_due
    ('repayment', None)
    """

    event_id: Final[str]
    borrower_id: Final[str]
    occurred_at: Final[datetime]
    loan_id: Final[str]
    due_date: Final[date]
    amount_due: Final[float]
    amount_paid: Final[float]
    days_past_due: Final[int]
    minimum_due: Final[float | None]
    outstanding_balance: Final[float | None]
    credit_limit: Final[float | None]
    paid_by_third_party: Final[bool]
    extra: Final[Mapping[str, Any]]
    # POSIX seconds of occurred_at, made once: the engine, the worker's reorder buffer and
    # its metrics each read it (``datetime.timestamp`` goes through a timedelta each call).
    ts: float = field(init=False, compare=False, repr=False)

    def __init__(
        self, event_id: str, borrower_id: str, occurred_at: datetime, loan_id: str,
        due_date: date, amount_due: float, amount_paid: float, days_past_due: int,
        minimum_due: float | None = None, outstanding_balance: float | None = None,
        credit_limit: float | None = None, paid_by_third_party: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.event_id = event_id
        self.borrower_id = borrower_id
        self.occurred_at = occurred_at
        self.ts = occurred_at.timestamp()
        self.loan_id = loan_id
        self.due_date = due_date
        self.amount_due = amount_due
        self.amount_paid = amount_paid
        self.days_past_due = days_past_due
        self.minimum_due = minimum_due
        self.outstanding_balance = outstanding_balance
        self.credit_limit = credit_limit
        self.paid_by_third_party = paid_by_third_party
        self.extra = {} if extra is None else extra

    @property
    def event_type(self) -> str:
        """The contract's ``event_type`` of this kind of event (``"repayment"``)."""
        return "repayment"


@dataclass(slots=True, init=False)
class NewBorrowing:
    """A new loan or a credit inquiry at another lender, as reported by a bureau feed.

    >>> from datetime import datetime, timezone
    >>> NewBorrowing("e2", "b1", datetime(2024, 3, 1, tzinfo=timezone.utc), "X", "microloan").kind
    'new_loan'
    """

    event_id: Final[str]
    borrower_id: Final[str]
    occurred_at: Final[datetime]
    lender_id: Final[str]
    lender_type: Final[str]
    kind: Final[str]
    amount: Final[float | None]
    overdue_days_elsewhere: Final[int | None]
    extra: Final[Mapping[str, Any]]
    ts: float = field(init=False, compare=False, repr=False)  # as Repayment.ts

    def __init__(
        self, event_id: str, borrower_id: str, occurred_at: datetime, lender_id: str,
        lender_type: str, kind: str = "new_loan", amount: float | None = None,
        overdue_days_elsewhere: int | None = None, extra: Mapping[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.event_id = event_id
        self.borrower_id = borrower_id
        self.occurred_at = occurred_at
        self.ts = occurred_at.timestamp()
        self.lender_id = lender_id
        self.lender_type = lender_type
        self.kind = kind
        self.amount = amount
        self.overdue_days_elsewhere = overdue_days_elsewhere
        self.extra = {} if extra is None else extra

    @property
    def event_type(self) -> str:
        """The contract's ``event_type`` of this kind of event (``"new_borrowing"``)."""
        return "new_borrowing"


@dataclass(slots=True, init=False)
class ContactStatus:
    """The outcome of one attempt to reach the borrower.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2024, 3, 1, tzinfo=timezone.utc)
    >>> ContactStatus("e3", "b1", at, "phone", "reachable").channel
    'phone'
    """

    event_id: Final[str]
    borrower_id: Final[str]
    occurred_at: Final[datetime]
    channel: Final[str]
    status: Final[str]
    extra: Final[Mapping[str, Any]]
    ts: float = field(init=False, compare=False, repr=False)  # as Repayment.ts

    def __init__(
        self, event_id: str, borrower_id: str, occurred_at: datetime, channel: str, status: str,
        extra: Mapping[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.event_id = event_id
        self.borrower_id = borrower_id
        self.occurred_at = occurred_at
        self.ts = occurred_at.timestamp()
        self.channel = channel
        self.status = status
        self.extra = {} if extra is None else extra

    @property
    def event_type(self) -> str:
        """The contract's ``event_type`` of this kind of event (``"contact_status"``)."""
        return "contact_status"


Event = Repayment | NewBorrowing | ContactStatus

_NOT_WRITTEN: Final = ("extra", "ts")  # the extras are written as fields; ts is occurred_at
_OPTIONAL_NAMES: Final = (
    "minimum_due",
    "outstanding_balance",
    "credit_limit",
    "amount",
    "overdue_days_elsewhere",
)


def _repayment(
    obj: dict[str, Any], event_id: str, borrower_id: str, at: datetime
) -> Repayment:
    return Repayment(
        event_id, borrower_id, at,
        loan_id=read_str(obj, "loan_id"),
        due_date=read_date(obj, "due_date"),
        amount_due=read_number(obj, "amount_due"),
        amount_paid=read_number(obj, "amount_paid"),
        days_past_due=read_count(obj, "days_past_due"),
        minimum_due=read_number(obj, "minimum_due", required=False),
        outstanding_balance=read_number(obj, "outstanding_balance", required=False),
        credit_limit=read_number(obj, "credit_limit", required=False, positive=True),
        paid_by_third_party=read_bool(obj, "paid_by_third_party", default=False),
        extra=_extra(obj, _REPAYMENT_FIELDS, _REPAYMENT_OPTIONAL),
    )


def _new_borrowing(
    obj: dict[str, Any], event_id: str, borrower_id: str, at: datetime
) -> NewBorrowing:
    return NewBorrowing(
        event_id, borrower_id, at,
        lender_id=read_str(obj, "lender_id"),
        lender_type=read_choice(obj, "lender_type", LENDER_TYPES),
        kind=read_choice(obj, "kind", BORROWING_KINDS, default="new_loan"),
        amount=read_number(obj, "amount", required=False),
        overdue_days_elsewhere=read_count(obj, "overdue_days_elsewhere", required=False),
        extra=_extra(obj, _BORROWING_FIELDS, _BORROWING_OPTIONAL),
    )


def _contact_status(
    obj: dict[str, Any], event_id: str, borrower_id: str, at: datetime
) -> ContactStatus:
    return ContactStatus(
        event_id, borrower_id, at,
        channel=read_choice(obj, "channel", CHANNELS),
        status=read_choice(obj, "status", CONTACT_STATUSES),
        extra=_extra(obj, _CONTACT_FIELDS, _CONTACT_OPTIONAL),
    )


# Per event type, the known fields it may leave out, and all its known fields: every known
# field outside the optional ones was read, so it is there (see _extra).
_REPAYMENT_OPTIONAL: Final = (
    "schema_version", "minimum_due", "outstanding_balance", "credit_limit", "paid_by_third_party",
)  # fmt: skip
_REPAYMENT_FIELDS: Final = _COMMON | {
    "loan_id", "due_date", "amount_due", "amount_paid", "days_past_due", *_REPAYMENT_OPTIONAL,
}  # fmt: skip
_BORROWING_OPTIONAL: Final = ("schema_version", "kind", "amount", "overdue_days_elsewhere")
_BORROWING_FIELDS: Final = _COMMON | {"lender_id", "lender_type", *_BORROWING_OPTIONAL}
_CONTACT_OPTIONAL: Final = ("schema_version",)
_CONTACT_FIELDS: Final = _COMMON | {"channel", "status", *_CONTACT_OPTIONAL}
_EVENT_TYPES: Final = ("repayment", "new_borrowing", "contact_status")


def _extra(obj: dict[str, Any], known: frozenset[str], optional: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``obj`` outside ``known``, once its required fields have been read.

    >>> _extra({"a": 1, "b": 2, "z": 3}, frozenset({"a", "b", "c"}), ("b", "c"))
    {'z': 3}
    """
    # Most events carry no extras. Counting the optional fields present tells so without
    # comparing every key with the known names (a third of parsing a repayment).
    present = len(known) - len(optional)
    for name in optional:
        if name in obj:
            present += 1
    if len(obj) == present:
        return {}
    return {k: v for k, v in obj.items() if k not in known}


def parse_event(raw: bytes | str | Mapping[str, Any]) -> Event:
    """Validate one event of contract v1 (JSON text, bytes, or an already decoded object).

    >>> parse_event(b'{"event_id": "e1", "event_type": "new_borrowing", "borrower_id": "b1",'
    ...             b' "occurred_at": "2024-03-01T09:00:00Z", "lender_id": "L9",'
    ...             b' "lender_type": "microloan", "amount": 500}').amount
    500.0
    >>> parse_event('{"event_id": "e1", "event_type": "repayment"}')
    Traceback (most recent call last):
    ...
    detectors.fields.EventError: borrower_id: missing
    """
    # Bytes first: the usual input, and the check against the Mapping ABC is slow.
    if type(raw) is not bytes and isinstance(raw, Mapping):
        obj: Any = raw
    else:
        try:
            obj = orjson.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise EventError(None, f"not JSON ({error})") from None
    if not isinstance(obj, dict):
        raise EventError(None, "not a JSON object")
    event_type = read_choice(obj, "event_type", _EVENT_TYPES)
    version = obj.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise EventError("schema_version", f"unsupported version {version!r}, expected 1")
    event_id = read_str(obj, "event_id")
    borrower_id = read_str(obj, "borrower_id")
    at = read_timestamp(obj, "occurred_at")
    # Direct calls, not a table of parsers: compiled, each is a plain C call.
    if event_type == "repayment":
        return _repayment(obj, event_id, borrower_id, at)
    if event_type == "new_borrowing":
        return _new_borrowing(obj, event_id, borrower_id, at)
    return _contact_status(obj, event_id, borrower_id, at)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready form of an event; ``parse_event`` reads it back to an equal event.

    >>> from datetime import datetime, timezone
    >>> event_to_dict(ContactStatus("e3", "b1", datetime(2024, 3, 1, tzinfo=timezone.utc),
    ...                             "sms", "reachable"))["occurred_at"]
    '2024-03-01T00:00:00+00:00'
    """
    out: dict[str, Any] = dict(event.extra)
    out.update(event_type=event.event_type, schema_version=SCHEMA_VERSION)
    for name in event.__dataclass_fields__:
        value = getattr(event, name)
        if name in _NOT_WRITTEN or (value is None and name in _OPTIONAL_NAMES):
            continue
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out
