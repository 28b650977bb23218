"""Field readers for decoded JSON events: each returns a typed value or raises EventError.

>>> read_number({"amount_due": -1}, "amount_due")
Traceback (most recent call last):
...
detectors.fields.EventError: amount_due: must be >= 0, got -1
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final, Literal, overload

__all__ = [
    "EventError",
    "read_bool",
    "read_choice",
    "read_count",
    "read_date",
    "read_number",
    "read_str",
    "read_timestamp",
]


# Longest problem text: a reason travels in a dead letter's header beside the original bytes,
# and a megabyte-long quote of the bad value would make that message too large for Kafka.
MAX_PROBLEM: Final = 300


class EventError(ValueError):
    """An event that breaks contract v1; ``field`` is None when the whole message is bad.

    The problem text is cut at ``MAX_PROBLEM`` characters.

    >>> error = EventError("status", "unknown value 'lost'")
    >>> error.field, error.problem, str(error)
    ('status', "unknown value 'lost'", "status: unknown value 'lost'")
    """

    def __init__(self, field: str | None, problem: str) -> None:
        if len(problem) > MAX_PROBLEM:  # it quotes the bad value, which may be huge
            problem = problem[: MAX_PROBLEM - 1] + "…"
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


# Day counts above a century are taken for corrupt input (and 2**64, which a JSON number
# holds but no 64-bit column does, is rejected the same whether it came as text or object).
MAX_DAYS: Final = 36_500

# Event and due dates outside these years are taken for corrupt input, not history or plans.
EARLIEST_YEAR: Final = 1970
LATEST_YEAR: Final = 2100
_EARLIEST: Final = datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC)
_AFTER_LATEST: Final = datetime(LATEST_YEAR + 1, 1, 1, tzinfo=UTC)


def _missing(name: str) -> EventError:
    return EventError(name, "missing")


def read_str(obj: dict[str, Any], name: str) -> str:
    """A required non-empty string, valid UTF-8 and without NUL (PostgreSQL cannot store it).

    >>> read_str({"loan_id": "L1"}, "loan_id")
    'L1'
    >>> read_str({"loan_id": "L" + chr(0)}, "loan_id")
    Traceback (most recent call last):
    ...
    detectors.fields.EventError: loan_id: must not contain NUL or unpaired surrogates
    """
    value = obj.get(name)
    if type(value) is str and value:
        if "\x00" in value or (not value.isascii() and not _utf8(value)):
            raise EventError(name, "must not contain NUL or unpaired surrogates")
        return value
    if value is None:
        raise _missing(name)
    raise EventError(name, f"must be a non-empty string, got {value!r}")


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON \\udXXX escape
        return False
    return True


def read_choice(
    obj: dict[str, Any], name: str, choices: tuple[str, ...], default: str | None = None
) -> str:
    """A string from a fixed set; ``default`` when absent, if one is given.

    >>> read_choice({}, "kind", ("new_loan", "credit_inquiry"), default="new_loan")
    'new_loan'
    """
    value = obj.get(name, default)
    if value in choices:
        return value  # type: ignore[no-any-return]
    if value is None:
        raise _missing(name)
    raise EventError(name, f"unknown value {value!r}, expected one of {', '.join(choices)}")


@overload
def read_number(
    obj: dict[str, Any], name: str, *, positive: bool = ..., required: Literal[True] = ...
) -> float: ...
@overload
def read_number(
    obj: dict[str, Any], name: str, *, positive: bool = ..., required: Literal[False]
) -> float | None: ...
def read_number(
    obj: dict[str, Any], name: str, *, positive: bool = False, required: bool = True
) -> float | None:
    """A finite number >= 0 (or > 0 when ``positive``), as a float; None when optional and absent.

    >>> read_number({"amount": 5}, "amount"), read_number({}, "amount", required=False)
    (5.0, None)
    """
    value: Any = obj.get(name)
    kind = type(value)
    if kind is float or kind is int:
        number: float = value  # compiled: converted once, then compared as a C double
        if number > 0.0 or (number == 0.0 and not positive):
            # x - x is 0 for a finite x and NaN for an infinite one: compiled, a C test where
            # math.isfinite is a call through the module. A float is returned as it came.
            if number - number == 0.0:
                return value if kind is float else float(number)
            raise EventError(name, f"must be finite, got {value!r}")
        raise EventError(name, f"must be {'>' if positive else '>='} 0, got {value!r}")
    if value is None:
        if required:
            raise _missing(name)
        return None
    raise EventError(name, f"must be a number, got {value!r}")


@overload
def read_count(obj: dict[str, Any], name: str) -> int: ...
@overload
def read_count(obj: dict[str, Any], name: str, *, required: Literal[False]) -> int | None: ...
def read_count(obj: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    """A whole number from 0 to ``MAX_DAYS`` (a day count); None when optional and absent.

    >>> read_count({"days_past_due": 3}, "days_past_due")
    3
    >>> read_count({"days_past_due": 2**64}, "days_past_due")
    Traceback (most recent call last):
    ...
    detectors.fields.EventError: days_past_due: must be <= 36500, got 18446744073709551616
    """
    value = obj.get(name)
    if type(value) is int:
        if 0 <= value <= MAX_DAYS:
            return value
        bound = ">= 0" if value < 0 else f"<= {MAX_DAYS}"
        raise EventError(name, f"must be {bound}, got {value!r}")
    if value is None:
        if required:
            raise _missing(name)
        return None
    raise EventError(name, f"must be a whole number, got {value!r}")


def read_bool(obj: dict[str, Any], name: str, *, default: bool) -> bool:
    """A JSON boolean, ``default`` when absent.

    >>> read_bool({"paid_by_third_party": True}, "paid_by_third_party", default=False)
    True
    """
    value = obj.get(name, default)
    if type(value) is bool:
        return value
    raise EventError(name, f"must be true or false, got {value!r}")


def read_timestamp(obj: dict[str, Any], name: str) -> datetime:
    """An RFC 3339 timestamp with an offset (``Z`` allowed), in years 1970 to 2100.

    >>> read_timestamp({"occurred_at": "2024-03-01T09:00:00Z"}, "occurred_at").isoformat()
    '2024-03-01T09:00:00+00:00'
    >>> read_timestamp({"occurred_at": "0001-01-01T00:00:00Z"}, "occurred_at")
    Traceback (most recent call last):
    ...
    detectors.fields.EventError: occurred_at: out of range (years 1970 to 2100): '0001-01-01...
    """
    value = obj.get(name)
    if type(value) is not str:
        raise _missing(name) if value is None else EventError(name, "must be an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EventError(name, f"not an RFC 3339 timestamp: {value!r}") from None
    if parsed.tzinfo is None or len(value) < 20:
        raise EventError(name, f"needs a date, a time and an offset: {value!r}")
    if not _EARLIEST <= parsed < _AFTER_LATEST:
        raise EventError(name, f"out of range (years {EARLIEST_YEAR} to {LATEST_YEAR}): {value!r}")
    return parsed


def read_date(obj: dict[str, Any], name: str) -> date:
    """A calendar date ``YYYY-MM-DD`` in years 1970 to 2100.

    >>> read_date({"due_date": "2024-02-29"}, "due_date")
    datetime.date(2024, 2, 29)
    """
    value = obj.get(name)
    if type(value) is not str:
        raise _missing(name) if value is None else EventError(name, "must be a YYYY-MM-DD string")
    try:
        if len(value) == 10:
            parsed = date.fromisoformat(value)
            if EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
                return parsed
            raise EventError(name, f"out of range (years {EARLIEST_YEAR} to {LATEST_YEAR}): "
                             f"{value!r}")  # fmt: skip
    except ValueError as error:
        if isinstance(error, EventError):
            raise
    raise EventError(name, f"not a YYYY-MM-DD date: {value!r}")
