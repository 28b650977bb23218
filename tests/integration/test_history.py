"""The history sink against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import psycopg

from detectors.decision import Alert, Decision
from streams.history import HistorySink
from streams.migrate import migrate
from streams.settings import REPO_ROOT


def add_dead_letters(sink: HistorySink, offsets: range) -> None:
    for offset in offsets:
        sink.add_dead_letter("loanwatch.events.repayment", 0, offset, "bad json", b"{", None)


def test_rows_added_while_a_flush_is_under_way_are_written_by_the_next(
    fresh_database: str,
) -> None:
    # The pipeline processes the next round while the previous round's flush runs.
    migrate(fresh_database, REPO_ROOT / "sql")

    async def scenario() -> tuple[int, int, int]:
        sink = HistorySink(fresh_database)
        add_dead_letters(sink, range(500))
        first = asyncio.ensure_future(sink.flush())
        await asyncio.sleep(0)  # the first flush has taken its rows and is connecting
        add_dead_letters(sink, range(500, 800))
        written_first = await first
        waiting = sink.pending
        written_second = await sink.flush()
        await sink.close()
        return written_first, waiting, written_second

    assert asyncio.run(scenario()) == (500, 300, 300)
    with psycopg.connect(fresh_database) as conn:
        offsets = [row[0] for row in conn.execute("select source_offset from dead_letters")]
    assert sorted(offsets) == list(range(800))


def test_reasons_and_times_of_every_shape_are_written_as_the_decision_gave_them(
    fresh_database: str,
) -> None:
    # The rows carry each tuple of reasons as a text[] literal made once per tuple, and each
    # time as RFC 3339 text, whatever its offset.
    migrate(fresh_database, REPO_ROOT / "sql")
    east, west = timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))
    shapes = [
        ((), datetime(2024, 3, 1, tzinfo=UTC)),
        (("S_DPD_30",), datetime(2024, 3, 1, 9, 30, 5, 250, tzinfo=east)),
        (('say "no"', "a,b", "{x}", "back\\slash", "ü", "NULL", " "),
         datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=west)),
    ]  # fmt: skip
    sink = HistorySink(fresh_database)
    for number, (reasons, at) in enumerate(shapes):
        alert = Alert(f"a{number}", f"b{number}", "collections.soft", "low", "C", reasons,
                      "sms", f"e{number}", at)  # fmt: skip
        sink.add_decision(Decision(f"b{number}", f"e{number}", at, {}, 0.5, "m", "C", None,
                                   reasons, (alert,), False, "p"))  # fmt: skip

    async def write() -> None:
        await sink.flush()
        await sink.close()

    asyncio.run(write())
    expected = {f"e{n}": (list(reasons), at) for n, (reasons, at) in enumerate(shapes)}
    with psycopg.connect(fresh_database) as conn:
        for table in ("tier_history", "alerts", "borrower_tiers"):
            written = {cause: (reasons, at) for cause, reasons, at in conn.execute(
                f"select cause_event_id, reasons, occurred_at from {table}")}  # fmt: skip
            assert written == expected, table
