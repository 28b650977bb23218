"""The history sink against a real PostgreSQL server."""

from __future__ import annotations

import asyncio

import psycopg

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
