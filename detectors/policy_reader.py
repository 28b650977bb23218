"""A reader over a decoded TOML table that names the full key in every error.

>>> table = TableReader({"probation": {"days": 0}}, "")
>>> table.table("probation").number("days", minimum=1)
Traceback (most recent call last):
...
detectors.policy_reader.PolicyError: probation.days: must be >= 1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PolicyError", "TableReader"]


class PolicyError(ValueError):
    """A policy that cannot be used; the message starts with the offending key.

    >>> str(PolicyError("rules.overdue_elsewhere.min_days: must be >= 1"))
    'rules.overdue_elsewhere.min_days: must be >= 1'
    """


class TableReader:
    """Typed, bounded access to one table; ``finish()`` rejects keys nobody asked for.

    >>> t = TableReader({"a": 1, "typo": 2}, "escalation")
    >>> t.integer("a")
    1
    >>> t.finish()
    Traceback (most recent call last):
    ...
    detectors.policy_reader.PolicyError: escalation.typo: unknown key
    """

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path
        self._read: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted path of ``name`` in this table.

        >>> TableReader({}, "rules.anomaly").key("min_score")
        'rules.anomaly.min_score'
        """
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, problem: str) -> PolicyError:
        """A PolicyError for ``name`` in this table.

        >>> str(TableReader({}, "x").error("y", "bad"))
        'x.y: bad'
        """
        return PolicyError(f"{self.key(name)}: {problem}")

    def value(self, name: str) -> Any:
        """The raw value of a required key.

        >>> TableReader({"a": [1]}, "").value("a")
        [1]
        """
        if name not in self.data:
            raise self.error(name, "missing")
        self._read.add(name)
        return self.data[name]

    def names(self) -> list[str]:
        """All keys of the table, each counted as read.

        >>> TableReader({"a": 1, "b": 2}, "").names()
        ['a', 'b']
        """
        self._read.update(self.data)
        return list(self.data)

    def table(self, name: str) -> TableReader:
        """A required sub-table.

        >>> TableReader({"s": {"k": 1}}, "p").table("s").path
        'p.s'
        """
        value = self.value(name)
        if not isinstance(value, dict):
            raise self.error(name, "must be a table")
        return TableReader(value, self.key(name))

    def number(
        self, name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        """A number within bounds, as a float.

        >>> TableReader({"p": 1}, "").number("p", maximum=1)
        1.0
        """
        value = self.value(name)
        if type(value) not in (int, float):
            raise self.error(name, "must be a number")
        if minimum is not None and value < minimum:
            raise self.error(name, f"must be >= {minimum:g}")
        if maximum is not None and value > maximum:
            raise self.error(name, f"must be <= {maximum:g}")
        return float(value)

    def integer(self, name: str, *, minimum: int | None = None) -> int:
        """A whole number >= ``minimum``.

        >>> TableReader({"n": 2.5}, "s").integer("n")
        Traceback (most recent call last):
        ...
        detectors.policy_reader.PolicyError: s.n: must be a whole number
        """
        value = self.value(name)
        if type(value) is not int:
            raise self.error(name, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self.error(name, f"must be >= {minimum}")
        return value

    def string(self, name: str, choices: tuple[str, ...] = ()) -> str:
        """A non-empty string, from ``choices`` when given.

        >>> TableReader({"by": "queue"}, "").string("by", ("queue", "queue_and_reasons"))
        'queue'
        """
        value = self.value(name)
        if type(value) is not str or not value:
            raise self.error(name, "must be a non-empty string")
        if choices and value not in choices:
            raise self.error(name, "must be one of " + ", ".join(map(repr, choices)))
        return value

    def boolean(self, name: str) -> bool:
        """A boolean.

        >>> TableReader({"enabled": True}, "").boolean("enabled")
        True
        """
        value = self.value(name)
        if type(value) is not bool:
            raise self.error(name, "must be true or false")
        return value

    def finish(self) -> None:
        """Reject keys that were never read: they are typos or belong to another version."""
        for name in self.data:
            if name not in self._read:
                raise self.error(name, "unknown key")
