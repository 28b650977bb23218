"""Delayed outcomes: a scored snapshot waits until event time tells whether it went bad.

A snapshot is *bad* when the borrower reaches the bad definition (``bad_dpd`` days past due)
within ``horizon_days`` of the snapshot, and *good* once the horizon has passed clean. Either
way it leaves the pending list exactly once, and only then may a model learn from it.

>>> from datetime import datetime, timezone
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()
>>> rule = OutcomeRule(bad_dpd=30, horizon_days=90, max_pending=4)
>>> first = Snapshot.of(t0, (1.0, 2.0))
>>> pending, matured = rule.advance((), t0, days_past_due=0, snapshot=first)
>>> matured, len(pending)
((), 1)
>>> pending, matured = rule.advance(pending, t0 + 40 * 86_400, days_past_due=35)
>>> [(o.label, o.features) for o in matured], pending
([(1, (1.0, 2.0))], ())
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter
from typing import Any, Final

import orjson

_DAY: Final = 86_400.0

SparseInputs = tuple[tuple[int, float], ...]  # (index, value) of the non-zero inputs


def sparse(values: Sequence[float]) -> SparseInputs:
    """The non-zero inputs as (index, value) pairs, ascending (most inputs are 0: snapshots,
    the state bytes, the training topic and the trainer's held outcomes keep them so).

    >>> sparse((0.0, 2.5, 0.0, 1.0))
    ((1, 2.5), (3, 1.0))
    """
    return tuple((index, value) for index, value in enumerate(values) if value)


def dense(size: int, pairs: Iterable[Sequence[Any]]) -> tuple[float, ...]:
    """The ``size`` inputs that :func:`sparse` gave ``pairs`` for (pairs may come as JSON
    arrays).

    >>> dense(4, [(1, 2.5), [3, 1.0]])
    (0.0, 2.5, 0.0, 1.0)
    """
    values = [0.0] * size
    for index, value in pairs:
        values[index] = value
    return tuple(values)


@dataclass(slots=True, init=False)
class Snapshot:
    """The model inputs of one scoring moment, waiting for their outcome: ``size`` inputs,
    of which the non-zero ones are at ``indices`` with ``values`` (see
    :meth:`InputEncoder.snapshot`). Two tuples rather than a pair per input: a borrower keeps
    its snapshots for months, and every object kept is one more for the garbage collector
    to scan.

    >>> snap = Snapshot(taken_at=0.0, size=3, indices=(1,), values=(0.5,))
    >>> snap.features, snap.inputs, Snapshot.of(0.0, (0.0, 0.5, 0.0)) == snap
    ((0.0, 0.5, 0.0), ((1, 0.5),), True)
    """

    taken_at: Final[float]  # POSIX seconds of event time; compact in state bytes
    size: Final[int]
    indices: Final[tuple[int, ...]]
    values: Final[tuple[float, ...]]
    _values_json: bytes | None = field(init=False, compare=False, repr=False)
    _sparse_json: bytes | None = field(init=False, compare=False, repr=False)

    def __init__(
        self, taken_at: float, size: int, indices: tuple[int, ...], values: tuple[float, ...]
    ) -> None:
        self.taken_at = taken_at
        self.size = size
        self.indices = indices
        self.values = values
        self._values_json = None
        self._sparse_json = None

    @classmethod
    def from_pairs(cls, taken_at: float, size: int, pairs: Iterable[Sequence[Any]]) -> Snapshot:
        """The snapshot of ``size`` inputs given as non-zero (index, value) pairs (pairs may
        come as JSON arrays).

        >>> Snapshot.from_pairs(1.0, 4, [[3, 2.0]]).features
        (0.0, 0.0, 0.0, 2.0)
        """
        indices: list[int] = []
        values: list[float] = []
        for index, value in pairs:
            indices.append(index)
            values.append(value)
        return cls(taken_at, size, tuple(indices), tuple(values))

    @classmethod
    def of(cls, taken_at: float, values: Sequence[float]) -> Snapshot:
        """The snapshot of a dense input vector."""
        return cls.from_pairs(taken_at, len(values), sparse(values))

    @property
    def inputs(self) -> SparseInputs:
        """The non-zero inputs as (index, value) pairs, ascending."""
        return tuple(zip(self.indices, self.values, strict=True))

    @property
    def features(self) -> tuple[float, ...]:
        """All ``size`` inputs, dense, in the encoder's order (what a model learns from)."""
        return dense(self.size, self.inputs)

    @property
    def values_json(self) -> bytes:
        """:attr:`values` as a JSON array, made once: the snapshot's state bytes and its
        outcome message both hold it, and writing floats is most of what either costs.

        >>> Snapshot(5.0, 3, (1,), (2.5,)).values_json
        b'[2.5]'
        """
        encoded = self._values_json
        if encoded is None:
            encoded = orjson.dumps(self.values)
            self._values_json = encoded
        return encoded

    @property
    def sparse_json(self) -> bytes:
        """``[taken_at, size, [index, ...], [value, ...]]`` for the non-zero inputs, as JSON,
        made once: the snapshot goes into its borrower's state bytes at every change of that
        state. Two flat arrays rather than (index, value) pairs, which took twice as long to
        write (:meth:`from_sparse` reads it).

        >>> Snapshot(5.0, 3, (1,), (2.5,)).sparse_json
        b'[5.0,3,[1],[2.5]]'
        """
        encoded = self._sparse_json
        if encoded is None:
            encoded = orjson.dumps((self.taken_at, self.size, self.indices,
                                    orjson.Fragment(self.values_json)))  # fmt: skip
            self._sparse_json = encoded
        return encoded

    @classmethod
    def from_sparse(cls, taken_at: float, size: int, indices: Sequence[int],
                    values: Sequence[float]) -> Snapshot:  # fmt: skip
        """The snapshot :attr:`sparse_json` wrote (its arrays as JSON gives them back).

        >>> Snapshot.from_sparse(5.0, 3, [1], [2.5]) == Snapshot(5.0, 3, (1,), (2.5,))
        True
        >>> Snapshot.from_sparse(5.0, 3, [1], [])
        Traceback (most recent call last):
        ...
        ValueError: 1 input indices but 0 values
        """
        if len(indices) != len(values):
            raise ValueError(f"{len(indices)} input indices but {len(values)} values")
        return cls(taken_at, size, tuple(indices), tuple(values))


_TAKEN_AT: Final = attrgetter("taken_at")


@dataclass(slots=True, init=False)
class Outcome:
    """A matured snapshot: its features and whether it went bad (1) or not (0).

    >>> Outcome(Snapshot.of(0.0, (1.0,)), label=0, matured_at=7776000.0).features
    (1.0,)
    """

    snapshot: Final[Snapshot]
    label: Final[int]
    matured_at: Final[float]

    def __init__(self, snapshot: Snapshot, label: int, matured_at: float) -> None:
        self.snapshot = snapshot
        self.label = label
        self.matured_at = matured_at

    @property
    def features(self) -> tuple[float, ...]:
        return self.snapshot.features


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """The bad definition and horizon, and how many snapshots a borrower may hold.

    ``max_pending`` bounds memory: when full, the oldest snapshot is dropped unlabelled
    (counted by the caller through :meth:`advance`'s result length), never mislabelled.

    >>> OutcomeRule(bad_dpd=30, horizon_days=90, max_pending=6).horizon
    datetime.timedelta(days=90)
    """

    bad_dpd: int = 30
    horizon_days: int = 90
    max_pending: int = 6

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)

    def advance(
        self,
        pending: tuple[Snapshot, ...],
        now: float,
        days_past_due: int,
        snapshot: Snapshot | None = None,
    ) -> tuple[tuple[Snapshot, ...], tuple[Outcome, ...]]:
        """Mature what event time ``now`` (POSIX seconds) decides, then add ``snapshot``
        (taken at ``now``) if given.

        An event older than a snapshot (a late arrival) cannot mature it: outcomes only
        look forward from the moment the score was made.

        >>> rule = OutcomeRule(max_pending=2)
        >>> pending, _ = rule.advance((), 0.0, 0, Snapshot.of(0.0, (1.0,)))
        >>> pending, matured = rule.advance(pending, rule.horizon.total_seconds(), 0)
        >>> [o.label for o in matured]
        [0]
        """
        if not pending and snapshot is None:  # most events of most borrowers: nothing to do
            return (), ()
        # Whole days (the field's type): exactly the seconds of ``self.horizon``, without
        # building a timedelta on every event.
        horizon_s = self.horizon_days * _DAY
        bad = days_past_due >= self.bad_dpd
        if snapshot is None and not bad and now - pending[0].taken_at < horizon_s:
            return pending, ()  # the oldest (first) snapshot is inside its horizon: no change
        kept: list[Snapshot] = []
        matured: list[Outcome] = []
        for item in pending:
            age = now - item.taken_at
            if age <= 0:
                kept.append(item)
            elif bad and age <= horizon_s:
                matured.append(Outcome(item, 1, now))
            elif age >= horizon_s:
                matured.append(Outcome(item, 0, item.taken_at + horizon_s))
            else:
                kept.append(item)
        if snapshot is not None:
            kept.append(snapshot)
            kept.sort(key=_TAKEN_AT)
            del kept[: max(0, len(kept) - self.max_pending)]
        return tuple(kept), tuple(matured)
