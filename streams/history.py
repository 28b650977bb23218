"""The PostgreSQL history sink: rows are buffered with ``add_*`` and written by ``flush``.

A flush writes the rows buffered when it starts in one transaction: ``COPY`` into a
temporary table, then ``INSERT ... SELECT ... ON CONFLICT`` on the natural key
(``cause_event_id``, ``alert_id``, the dead letter's topic/partition/offset), so rows
written twice after a crash are written once. The current-tier row moves only forward in
event time. A failed flush keeps its rows and is retried with backoff until it succeeds: a
database outage pauses the stream that awaits it and never drops a row.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import psycopg
import structlog
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.adapt import PyFormat, Transformer
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from detectors.decision import Decision
from streams import metrics
from streams.messages import rfc3339

log = structlog.get_logger(__name__)

# What an unreachable or restarting database raises: retried until the write succeeds.
RETRYABLE = (psycopg.OperationalError, psycopg.InterfaceError)
_ADAPT = Transformer()  # psycopg's default adapters, as a new connection has them


@lru_cache(maxsize=4096)
def text_array(items: tuple[str, ...]) -> str:
    """``items`` as the literal of a PostgreSQL ``text[]``, from psycopg's own list dumper.

    A decision's reasons go into the rows as this text, made once per distinct tuple: the
    same few combinations of reasons repeat across rows and rounds, and dumping a list for
    every row took 3-5% of a worker's time.

    >>> text_array(("S_DPD_30", 'say "no", twice'))
    '{S_DPD_30,"say \\\\"no\\\\", twice"}'
    >>> text_array(())
    '{}'
    """
    values = list(items)
    dumped = cast(Buffer, _ADAPT.get_dumper(values, PyFormat.TEXT).dump(values))  # not None
    return bytes(dumped).decode()


@dataclass(frozen=True, slots=True)
class Table:
    """A target table: its columns and what to do when the natural key is already there.

    >>> Table("alerts", ("alert_id", "queue"), "on conflict (alert_id) do nothing").columns
    ('alert_id', 'queue')
    """

    name: str
    columns: tuple[str, ...]
    on_conflict: str

    @property
    def staging(self) -> sql.Identifier:
        """The connection's temporary table this table's rows are copied into first."""
        return sql.Identifier(f"staging_{self.name}")


TIER_HISTORY = Table(
    "tier_history",
    ("cause_event_id", "borrower_id", "previous_tier", "tier", "reasons", "score",
     "model_version", "policy_version", "occurred_at"),
    "on conflict (cause_event_id) do nothing",
)  # fmt: skip
ALERTS = Table(
    "alerts",
    ("alert_id", "borrower_id", "queue", "severity", "tier", "treatment", "reasons",
     "cause_event_id", "occurred_at"),
    "on conflict (alert_id) do nothing",
)  # fmt: skip
BORROWER_TIERS = Table(
    "borrower_tiers",
    ("borrower_id", "tier", "previous_tier", "reasons", "score", "model_version",
     "policy_version", "cause_event_id", "occurred_at"),
    "on conflict (borrower_id) do update set tier = excluded.tier,"
    " previous_tier = excluded.previous_tier, reasons = excluded.reasons,"
    " score = excluded.score, model_version = excluded.model_version,"
    " policy_version = excluded.policy_version, cause_event_id = excluded.cause_event_id,"
    " occurred_at = excluded.occurred_at, updated_at = now()"
    " where borrower_tiers.occurred_at <= excluded.occurred_at",
)  # fmt: skip
DEAD_LETTERS = Table(
    "dead_letters",
    ("source_topic", "source_partition", "source_offset", "reason", "payload", "message_key"),
    "on conflict (source_topic, source_partition, source_offset) do nothing",
)  # fmt: skip
MODEL_SNAPSHOTS = Table(
    "model_snapshots",
    ("version", "champion", "matured_outcomes", "header", "checkpoint"),
    "on conflict (version) do nothing",
)  # fmt: skip
POLICY_VERSIONS = Table(
    "policy_versions", ("version", "sha256", "document"), "on conflict (version) do nothing"
)
TABLES = (TIER_HISTORY, ALERTS, BORROWER_TIERS, DEAD_LETTERS, MODEL_SNAPSHOTS, POLICY_VERSIONS)


class HistorySink:
    """Buffers decision rows and writes them to PostgreSQL in idempotent batches."""

    def __init__(self, database_url: str, *, max_backoff_s: float = 5.0) -> None:
        self.database_url = database_url
        self.max_backoff_s = max_backoff_s
        self._rows: dict[str, list[Sequence[Any]]] = {table.name: [] for table in TABLES}
        # borrower -> the event time and row of its latest current tier
        self._current: dict[str, tuple[datetime, Sequence[Any]]] = {}
        self._oldest: float | None = None
        self._stamped: tuple[datetime | None, str] = (None, "")  # see _stamp
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._staged: set[str] = set()  # tables whose staging table this connection has
        # One connection, used by the rounds' flushes and the tier-count timer: a second
        # task's statement inside a flush's transaction would corrupt it.
        self._using = asyncio.Lock()

    @property
    def pending(self) -> int:
        """Rows waiting for the next flush."""
        return sum(len(rows) for rows in self._rows.values()) + len(self._current)

    def _add(self, table: Table, row: Sequence[Any]) -> None:
        self._rows[table.name].append(row)
        self._touch()

    def _touch(self) -> None:
        if self._oldest is None:
            self._oldest = time.monotonic()

    def add_decision(self, decision: Decision) -> None:
        """The tier change (with the current-tier row) and alerts of one decision."""
        change = decision.tier_change
        if change is not None:
            reasons, at = text_array(change.reasons), self._stamp(change.occurred_at)
            row = (
                change.cause_event_id, change.borrower_id, change.previous_tier, change.tier,
                reasons, change.score, decision.model_version, change.policy_version, at,
            )  # fmt: skip
            self._add(TIER_HISTORY, row)
            current = (
                change.borrower_id, change.tier, change.previous_tier, reasons, change.score,
                decision.model_version, change.policy_version, change.cause_event_id, at,
            )  # fmt: skip
            known = self._current.get(change.borrower_id)
            if known is None or known[0] <= change.occurred_at:
                self._current[change.borrower_id] = (change.occurred_at, current)
            self._touch()
        for alert in decision.alerts:
            self._add(ALERTS, (
                alert.alert_id, alert.borrower_id, alert.queue, alert.severity, alert.tier,
                alert.treatment, text_array(alert.reasons), alert.cause_event_id,
                self._stamp(alert.occurred_at),
            ))  # fmt: skip

    def _stamp(self, moment: datetime) -> str:
        """``rfc3339(moment)``, made once for consecutive rows of the same moment (a
        decision's tier change and alerts carry its event's ``occurred_at``)."""
        if moment is not self._stamped[0]:
            self._stamped = (moment, rfc3339(moment))
        return self._stamped[1]

    def add_dead_letter(
        self, topic: str, partition: int, offset: int, reason: str, payload: bytes,
        key: bytes | None,
    ) -> None:  # fmt: skip
        """One rejected message with its original bytes and where it came from."""
        self._add(DEAD_LETTERS, (topic, partition, offset, reason, payload, key))

    def add_model_snapshot(self, header: dict[str, Any], checkpoint: bytes) -> None:
        """A published model checkpoint."""
        self._add(MODEL_SNAPSHOTS, (
            header["version"], header["champion"], header["matured_outcomes"],
            json.dumps(header), checkpoint,
        ))  # fmt: skip

    def add_policy(self, version: str, sha256: str, document: dict[str, Any]) -> None:
        """The policy a worker runs with."""
        self._add(POLICY_VERSIONS, (version, sha256, json.dumps(document)))

    async def flush(self) -> int:
        """Write everything buffered so far; retry (pausing the caller) until it is written.

        A flush takes the rows it writes: rows added while it is under way (the next round's,
        processed meanwhile) wait for the next flush, and flushes write one after another.
        """
        rows, current, oldest = self._rows, self._current, self._oldest
        count = sum(len(batch) for batch in rows.values()) + len(current)
        if not count:
            return 0
        self._rows = {table.name: [] for table in TABLES}
        self._current, self._oldest = {}, None
        # The gauge moves at flushes, not at every row added (that was 2% of a worker's
        # time): rows added since the last flush are counted when the next one takes them.
        metrics.SINK_PENDING_ROWS.set(count)
        started = time.perf_counter()
        try:
            await self._write_until_done(rows, [row for _, row in current.values()], count,
                                         oldest)  # fmt: skip
        except BaseException:
            self._put_back(rows, current, oldest)  # a later flush writes them
            raise
        metrics.SINK_BATCH_ROWS.observe(count)
        metrics.SINK_FLUSH_SECONDS.observe(time.perf_counter() - started)
        metrics.SINK_PENDING_ROWS.set(self.pending)
        metrics.SINK_LAG.set(0)
        return count

    async def _write_until_done(self, rows: dict[str, list[Sequence[Any]]],
                                current: list[Sequence[Any]], count: int,
                                oldest: float | None) -> None:  # fmt: skip
        """One attempt, then retries with backoff while the database is unreachable.

        The first attempt goes without tenacity: the objects of one retrying call form
        reference cycles, which only the cyclic garbage collector frees, and with a flush per
        round they were nearly all it found on a live stream (40,146 objects in one full
        collection, seen with ``gc.callbacks``; about 500 since).
        """
        try:
            await self._write(rows, current)
            return
        except RETRYABLE as error:
            self._on_failure(1, error, count, oldest)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RETRYABLE),
            wait=wait_exponential(multiplier=0.1, max=self.max_backoff_s),
            before_sleep=lambda state: self._on_failure(
                state.attempt_number + 1,
                state.outcome.exception() if state.outcome else None, count, oldest,
            ),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._write(rows, current)

    def _put_back(self, rows: dict[str, list[Sequence[Any]]],
                  current: dict[str, tuple[datetime, Sequence[Any]]],
                  oldest: float | None) -> None:  # fmt: skip
        for name, batch in rows.items():
            self._rows[name][:0] = batch
        for borrower, entry in current.items():
            known = self._current.get(borrower)
            if known is None or known[0] < entry[0]:  # the later in event time stays
                self._current[borrower] = entry
        if oldest is not None:
            self._oldest = oldest

    def _on_failure(self, attempt: int, error: BaseException | None, count: int,
                    oldest: float | None) -> None:  # fmt: skip
        metrics.SINK_FAILURES.inc()
        metrics.SINK_PENDING_ROWS.set(count + self.pending)
        if oldest is not None:
            metrics.SINK_LAG.set(time.monotonic() - oldest)
        log.warning("postgres flush failed; retrying", attempt=attempt,
                    pending_rows=count + self.pending, error=str(error))  # fmt: skip
        self._conn = None  # reconnect on the next attempt

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.database_url, connect_timeout=5
            )
            self._staged = set()  # temporary tables live and die with their connection
        return self._conn

    async def _write(self, rows: dict[str, list[Sequence[Any]]],
                     current: list[Sequence[Any]]) -> None:  # fmt: skip
        """One write attempt, in one transaction, with the connection to itself."""
        batches = [(table, current if table is BORROWER_TIERS else rows[table.name])
                   for table in TABLES]  # fmt: skip
        created = set()
        async with self._using:
            conn = await self._connection()
            async with conn.transaction():
                for table, batch in batches:
                    if batch:
                        if table.name not in self._staged:
                            await _create_staging(conn, table)
                            created.add(table.name)
                        await _copy_upsert(conn, table, batch)
            self._staged |= created  # a rolled-back transaction took its creations with it

    async def borrowers_by_tier(self) -> dict[str, int]:
        """Current tier counts over the whole portfolio."""
        async with self._using:
            conn = await self._connection()
            async with conn.transaction():
                cursor = await conn.execute(
                    "select tier, count(*) from borrower_tiers group by tier"
                )
                return {tier: count for tier, count in await cursor.fetchall()}

    async def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()


async def _create_staging(conn: psycopg.AsyncConnection[Any], table: Table) -> None:
    """The connection's temporary table ``table``'s rows are copied into (emptied at every
    commit), made once per connection: a flush of a live stream's round is a few rows, and
    a statement more per table and flush was a third of its round trips."""
    await conn.execute(
        sql.SQL(
            "create temp table if not exists {} (like {} including defaults) on commit delete rows"
        ).format(table.staging, sql.Identifier(table.name))
    )


async def _copy_upsert(
    conn: psycopg.AsyncConnection[Any], table: Table, rows: Sequence[Sequence[Any]]
) -> None:
    staging = table.staging
    target = sql.Identifier(table.name)
    columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
    async with conn.cursor().copy(
        sql.SQL("copy {} ({}) from stdin").format(staging, columns)
    ) as copy:
        for row in rows:
            await copy.write_row(row)
    await conn.execute(
        sql.SQL("insert into {} ({}) select {} from {} " + table.on_conflict).format(
            target, columns, columns, staging
        )
    )
