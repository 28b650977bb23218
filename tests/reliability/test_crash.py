"""Crash: a worker killed with SIGKILL at random (seeded) moments under steady load, five
times, and restarted each time.

A producer thread sends a simulated portfolio at a steady rate with malformed messages mixed
in. Each kill loses whatever the worker held: events in its reorder buffer, a round between
its table writes, its PostgreSQL transaction and its sends, uncommitted offsets. At the end
every input event must be accounted for exactly once: PostgreSQL holds exactly replay's tier
changes, alerts and current tiers (no duplicate row), one dead-letter row per malformed
message, and the output topics hold every expected id at least once.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.conftest import Stack
from tests.e2e.pipeline_support import simulated_events
from tests.reliability.malformed import malformed
from tests.reliability.support import (
    SteadyProducer,
    metric_sum,
    metric_values,
    report,
    seeded,
    settle_and_audit,
    start_worker,
    wait_ready,
)

EVENTS = 9000
RATE = 75.0  # events/s: about two minutes of steady load, well under what a worker sustains
BAD_EVERY = 150  # one malformed message per this many good events
KILLS = 5


def test_killed_workers_lose_and_duplicate_nothing(scratch_stack: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    events = simulated_events(tmp_path / "events.jsonl", EVENTS, seed=51)
    good = [json.loads(line) for line in events.read_text().splitlines()]
    rng = seeded(5151)
    bad_rng = seeded(5152)

    def bad(_: int) -> tuple[str, bytes | None, bytes]:
        kind, key, value, _name = malformed(bad_rng, good)
        return kind, key, value

    producer = SteadyProducer(scratch_stack, events, RATE, bad=bad, bad_every=BAD_EVERY)
    worker = start_worker(scratch_stack, tmp_path, "crash")
    kills: list[dict[str, float]] = []
    try:
        wait_ready(worker)
        producer.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(2.0, 9.0))
            values = metric_values(worker)
            kills.append({
                "at_s": round(time.monotonic() - started, 1),
                "sent": producer.sent,
                "under_load": float(producer.is_alive()),
                "processed": metric_sum(values, "loanwatch_events_total", "processed"),
                "redelivered": metric_sum(values, "loanwatch_events_total", "duplicate"),
            })  # fmt: skip
            assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
            worker.stop(signal.SIGKILL)
            worker = start_worker(scratch_stack, tmp_path, "crash")
            wait_ready(worker, 180)
        producer.join_checked()
        audit = settle_and_audit(scratch_stack, events, tmp_path / "replay",
                                 len(producer.bad_sent), [worker])  # fmt: skip
        values = metric_values(worker)
    finally:
        worker.stop()

    report("crash", events=producer.sent, malformed=len(producer.bad_sent), kills=len(kills),
           kills_under_load=int(sum(k["under_load"] for k in kills)),
           redelivered_recognised=int(sum(k["redelivered"] for k in kills)
                                      + metric_sum(values, "loanwatch_events_total", "duplicate")),
           **audit.counts(), seconds=round(time.monotonic() - started))  # fmt: skip
    print("[reliability] crash kills:", kills)
    assert len(kills) == KILLS
    assert sum(k["under_load"] for k in kills) >= KILLS - 1, "kills must happen under load"
    assert len(producer.bad_sent) == EVENTS // BAD_EVERY
    audit.assert_exact(producer.bad_sent)
