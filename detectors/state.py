"""Per-borrower state: only what the feature windows, dedup, tiering and suppression need.

Times are epoch seconds taken from events. Histories are kept sorted by event time, so a late
event lands where it belongs, and are pruned to the longest window that reads them, which bounds
memory per borrower. ``to_bytes`` writes a one-byte format version then compact JSON; readers
for older formats stay in ``_DECODERS`` so a later release still reads today's bytes.

>>> state = BorrowerState("b1")
>>> state.remember("e1", dedup_limit=2)
True
>>> state.remember("e1", dedup_limit=2)
False
>>> BorrowerState.from_bytes(state.to_bytes()) == state
True
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from detectors.models.outcomes import Snapshot

__all__ = [
    "BORROWING_HORIZON",
    "CONTACT_FAILED",
    "CONTACT_HISTORY",
    "CONTACT_HORIZON",
    "CONTACT_INVALID",
    "CONTACT_REACHED",
    "DAY",
    "RECENT_DECISIONS",
    "REPAYMENT_HORIZON",
    "BorrowerState",
    "RecentDecision",
    "StateFormatError",
]

DAY: Final = 86_400.0
# The longest window each history is read over (see detectors.features).
REPAYMENT_HORIZON: Final = 365 * DAY
BORROWING_HORIZON: Final = 90 * DAY
CONTACT_HORIZON: Final = 90 * DAY
CONTACT_HISTORY: Final = 64  # contact checks kept: enough to see any realistic run of failures
FORMAT_VERSION: Final = 3

# (ts, days_past_due, amount_paid, amount_due, flags); flags from detectors.features
RepaymentRow = tuple[float, int, float, float, int]
# (ts, lender_id, lender_type, is_inquiry, amount, overdue_days_elsewhere)
BorrowingRow = tuple[float, str, str, bool, float, int]
# (ts, outcome); outcome is one of the CONTACT_* codes below
ContactRow = tuple[float, int]
CONTACT_REACHED: Final = 0
CONTACT_FAILED: Final = 1
CONTACT_INVALID: Final = 2
# (event_id, ts, previous_tier, tier, reasons, score, model_version, policy_version,
#  ((queue, severity, treatment), ...)): a decision that produced outputs
RecentDecision = tuple[
    str, float, str | None, str, tuple[str, ...], float, str, str, tuple[tuple[str, str, str], ...]
]
# Decisions with outputs kept per borrower: the lookup API shows them, and an event redelivered
# after a crash (state saved, outputs not yet acknowledged) gets its outputs re-sent from here.
RECENT_DECISIONS: Final = 8


class StateFormatError(ValueError):
    """Bytes that are not a borrower state this release can read.

    >>> BorrowerState.from_bytes(b"\\x09{}")
    Traceback (most recent call last):
    ...
    detectors.state.StateFormatError: state format 9 is not readable by this release (knows 1, 2, 3)
    """


@dataclass(slots=True)
class BorrowerState:
    """Everything loanwatch remembers about one borrower between events.

    >>> BorrowerState("b1").tier is None
    True
    """

    borrower_id: str
    now: float = 0.0  # the latest event time seen: windows end here
    first_seen: float = 0.0
    seen: dict[str, None] = field(default_factory=dict)  # recent event ids, oldest first
    repayments: list[RepaymentRow] = field(default_factory=list)
    loans: dict[str, tuple[float, int, float, float]] = field(default_factory=dict)
    borrowings: list[BorrowingRow] = field(default_factory=list)
    contacts: list[ContactRow] = field(default_factory=list)
    last_reachable: float | None = None
    tier: str | None = None
    reasons: tuple[str, ...] = ()
    score: float = 0.0
    clean_cycles: int = 0  # repayments since the evidence last supported the current tier
    last_trigger: float = 0.0  # event time the evidence last supported the current tier
    alerts_sent: dict[str, float] = field(default_factory=dict)  # suppression key -> time
    pending: tuple[Snapshot, ...] = ()  # scored model inputs waiting for their outcome
    recent: list[RecentDecision] = field(default_factory=list)  # newest last
    # Once a state has been written (to_bytes), it keeps each repayment row and each recent
    # decision as JSON too, made as the row arrives: a worker writes a state at every change,
    # and encoding rows read back from memory long after they were made cost more than the
    # rest of the state (scattered small objects, cold in the CPU's caches). A replay, which
    # never writes states, makes none. Each list is also kept joined into one JSON array,
    # made again only when the list changes, not at every write.
    _written: bool = field(default=False, init=False, compare=False, repr=False)
    _repayments_json: list[bytes] = field(
        default_factory=list, init=False, compare=False, repr=False
    )
    _recent_json: list[bytes] = field(default_factory=list, init=False, compare=False, repr=False)
    _repayments_array: bytes | None = field(default=None, init=False, compare=False, repr=False)
    _recent_array: bytes | None = field(default=None, init=False, compare=False, repr=False)

    def record_decision(self, decision: RecentDecision) -> None:
        """Keep a decision that produced outputs, forgetting the oldest beyond the bound
        (``recent`` changes only so).

        >>> s = BorrowerState("b1")
        >>> for n in range(10):
        ...     s.record_decision((f"e{n}", 0.0, None, "A", (), 0.0, "m", "p", ()))
        >>> len(s.recent), s.recent[0][0]
        (8, 'e2')
        """
        self.recent.append(decision)
        if self._written:
            self._recent_json.append(orjson.dumps(decision))
            self._recent_array = None
        if len(self.recent) > RECENT_DECISIONS:
            del self.recent[0]
            if self._written:
                del self._recent_json[0]

    def remember(self, event_id: str, dedup_limit: int) -> bool:
        """Record an event id; False if it was already seen (a duplicate).

        >>> s = BorrowerState("b1")
        >>> [s.remember(i, dedup_limit=2) for i in ("a", "b", "c", "a")]
        [True, True, True, True]
        """
        seen = self.seen
        if event_id in seen:
            return False
        seen[event_id] = None
        if len(seen) > dedup_limit:
            del seen[next(iter(seen))]
        return True

    def advance(self, ts: float) -> None:
        """Move the state's clock to event time ``ts`` (never backwards) and prune histories.

        >>> s = BorrowerState("b1"); s.advance(100.0); s.advance(50.0); s.now
        100.0
        """
        if not self.first_seen or ts < self.first_seen:
            self.first_seen = ts
        if ts <= self.now:
            return
        self.now = ts
        # Checking the oldest row first keeps the common case (nothing expired) cheap.
        if self.repayments and self.repayments[0][0] < ts - REPAYMENT_HORIZON:
            dropped = _prune(self.repayments, ts - REPAYMENT_HORIZON)
            if self._written:
                del self._repayments_json[:dropped]
                self._repayments_array = None
        if self.borrowings and self.borrowings[0][0] < ts - BORROWING_HORIZON:
            _prune(self.borrowings, ts - BORROWING_HORIZON)
        if self.contacts and self.contacts[0][0] < ts - CONTACT_HORIZON:
            _prune(self.contacts, ts - CONTACT_HORIZON)
        if self.loans:
            stale = [k for k, v in self.loans.items() if v[0] < ts - REPAYMENT_HORIZON]
            for loan_id in stale:
                del self.loans[loan_id]

    def add_repayment(
        self, row: RepaymentRow, loan_id: str, balance: float | None, limit: float | None
    ) -> None:
        """Insert a repayment by event time and update its loan's latest position.

        >>> s = BorrowerState("b1"); s.add_repayment((5.0, 0, 10.0, 10.0, 0), "L1", 90.0, 100.0)
        >>> s.loans["L1"]
        (5.0, 0, 90.0, 100.0)
        """
        ts = row[0]
        if ts >= self.now - REPAYMENT_HORIZON:
            at = bisect_right(self.repayments, row)
            self.repayments.insert(at, row)
            if self._written:
                self._repayments_json.insert(at, orjson.dumps(row))
                self._repayments_array = None
        latest = self.loans.get(loan_id)
        if latest is None or ts >= latest[0]:
            # A repayment without a balance or limit keeps the last known ones.
            self.loans[loan_id] = (
                ts,
                row[1],
                balance if balance is not None else (latest[2] if latest else 0.0),
                limit if limit is not None else (latest[3] if latest else 0.0),
            )

    def add_borrowing(self, row: BorrowingRow) -> None:
        """Insert a new loan or inquiry by event time.

        >>> s = BorrowerState("b1"); s.add_borrowing((5.0, "X", "bnpl", False, 50.0, 0))
        >>> len(s.borrowings)
        1
        """
        if row[0] >= self.now - BORROWING_HORIZON:
            insort(self.borrowings, row)

    def add_contact(self, ts: float, outcome: int) -> None:
        """Insert a contact check by event time, keeping the last ``CONTACT_HISTORY``.

        >>> s = BorrowerState("b1"); s.add_contact(5.0, CONTACT_REACHED); s.last_reachable
        5.0
        """
        if outcome == CONTACT_REACHED and (self.last_reachable is None or ts > self.last_reachable):
            self.last_reachable = ts
        if ts >= self.now - CONTACT_HORIZON:
            insort(self.contacts, (ts, outcome))
            if len(self.contacts) > CONTACT_HISTORY:
                del self.contacts[0]

    def copy(self) -> BorrowerState:
        """An independent copy (``Monitor.process`` updates the state it is given).

        >>> s = BorrowerState("b1"); c = s.copy(); c.tier = "A"; s.tier is None
        True
        """
        return BorrowerState.from_bytes(self.to_bytes())

    def to_bytes(self) -> bytes:
        """Serialise: one format-version byte, then compact JSON.

        Pending snapshots are written sparse (most model inputs are 0), which keeps a
        borrower's bytes small; each snapshot, repayment row and recent decision is formatted
        once.

        >>> BorrowerState("b1").to_bytes()[:1]
        b'\\x03'
        """
        if not self._written:
            self._repayments_json = [orjson.dumps(row) for row in self.repayments]
            self._recent_json = [orjson.dumps(decision) for decision in self.recent]
            self._written = True
        repayments = self._repayments_array
        if repayments is None:
            repayments = self._repayments_array = _json_array(self._repayments_json)
        recent = self._recent_array
        if recent is None:
            recent = self._recent_array = _json_array(self._recent_json)
        pending = [orjson.Fragment(snap.sparse_json) for snap in self.pending]
        body = [
            self.borrower_id, self.now, self.first_seen, list(self.seen),
            orjson.Fragment(repayments), self.loans, self.borrowings, self.contacts,
            self.last_reachable, self.tier, self.reasons, self.score, self.clean_cycles,
            self.last_trigger, self.alerts_sent, pending, orjson.Fragment(recent),
        ]  # fmt: skip
        return bytes((FORMAT_VERSION,)) + orjson.dumps(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> BorrowerState:
        """Read bytes written by this or any earlier release.

        >>> BorrowerState.from_bytes(BorrowerState("b7").to_bytes()).borrower_id
        'b7'
        """
        if not data:
            raise StateFormatError("empty state")
        decoder = _DECODERS.get(data[0])
        if decoder is None:
            raise StateFormatError(
                f"state format {data[0]} is not readable by this release (knows "
                f"{', '.join(map(str, sorted(_DECODERS)))})"
            )
        try:
            return decoder(orjson.loads(data[1:]))
        except (ValueError, TypeError, IndexError) as error:
            raise StateFormatError(f"corrupt state: {error}") from None


def _prune(rows: list[Any], cutoff: float) -> int:
    """Drop the rows before ``cutoff``; returns how many went (they are the first)."""
    drop = 0
    for row in rows:
        if row[0] >= cutoff:
            break
        drop += 1
    if drop:
        del rows[:drop]
    return drop


def _decode_v1(body: list[Any]) -> BorrowerState:
    (borrower_id, now, first_seen, seen, repayments, loans, borrowings, contacts,
     last_reachable, tier, reasons, score, clean_cycles, last_trigger, alerts_sent,
     ) = body  # fmt: skip
    return BorrowerState(
        borrower_id=borrower_id,
        now=now,
        first_seen=first_seen,
        seen=dict.fromkeys(seen),
        repayments=[tuple(r) for r in repayments],
        loans={k: tuple(v) for k, v in loans.items()},
        borrowings=[tuple(b) for b in borrowings],
        contacts=[tuple(c) for c in contacts],
        last_reachable=last_reachable,
        tier=tier,
        reasons=tuple(reasons),
        score=score,
        clean_cycles=clean_cycles,
        last_trigger=last_trigger,
        alerts_sent=alerts_sent,
    )


def _decode_v2(body: list[Any]) -> BorrowerState:
    """Format 2 is format 1 plus the pending model snapshots, each ``[taken_at, size,
    [[index, value], ...]]``, and the recent decisions."""
    return _decode_with_snapshots(body, Snapshot.from_pairs)


def _decode_v3(body: list[Any]) -> BorrowerState:
    """Format 3 is format 2 with each pending snapshot ``[taken_at, size, [index, ...],
    [value, ...]]`` (:attr:`Snapshot.sparse_json`)."""
    return _decode_with_snapshots(body, Snapshot.from_sparse)


def _decode_with_snapshots(body: list[Any], snapshot: Callable[..., Snapshot]) -> BorrowerState:
    """Format 1's fields, then the pending snapshots (each read by ``snapshot`` from its
    JSON array's items) and the recent decisions."""
    state = _decode_v1(body[:15])
    state.recent = [
        (event_id, ts, previous, tier, tuple(reasons), score, model, policy,
         tuple((queue, severity, treatment) for queue, severity, treatment in actions))
        for event_id, ts, previous, tier, reasons, score, model, policy, actions in body[16]
    ]  # fmt: skip
    state.pending = tuple(snapshot(*fields) for fields in body[15])
    return state


# Format version -> reader. A new format adds a reader here and keeps the old ones.
_DECODERS: dict[int, Callable[[list[Any]], BorrowerState]] = {
    1: _decode_v1, 2: _decode_v2, 3: _decode_v3,
}


def _json_array(items: list[bytes]) -> bytes:
    """JSON values joined into one JSON array.

    >>> _json_array([b"[1,2]", b'"a"']), _json_array([])
    (b'[[1,2],"a"]', b'[]')
    """
    return b"[" + b",".join(items) + b"]"
