"""Overload: a burst at ten times the sustainable rate.

The worker first runs at a gentle steady rate (its baseline memory), then the rest of the
portfolio arrives as fast as one producer can send it, far above what one worker processes
(about 1,000-2,000 events/s). The group's lag must grow and then drain to zero, the worker's
resident memory (``/proc/<pid>/status``) must stay within a bound, and the audit must find
nothing lost or duplicated.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from tests.conftest import Stack
from tests.e2e.pipeline_support import group_lag, simulated_events, wait_until
from tests.reliability.support import (
    Message,
    SteadyProducer,
    report,
    rss_bytes,
    send_all,
    settle_and_audit,
    start_worker,
    wait_ready,
)

STEADY_EVENTS = 1500
STEADY_RATE = 150.0
BURST_EVENTS = 16_500
MAX_RSS = 1536 * 1024 * 1024  # whatever the backlog, the worker stays under 1.5 GiB ...
MAX_RSS_GROWTH = 512 * 1024 * 1024  # ... and grows by less than 512 MiB over its baseline


def test_a_burst_builds_lag_that_drains_with_bounded_memory(
    scratch_stack: Stack, tmp_path: Path
) -> None:
    started = time.monotonic()
    events = simulated_events(tmp_path / "events.jsonl", STEADY_EVENTS + BURST_EVENTS, seed=81)
    lines = events.read_text().splitlines(keepends=True)
    steady = tmp_path / "steady.jsonl"
    steady.write_text("".join(lines[:STEADY_EVENTS]))
    burst: list[Message] = []
    for line in lines[STEADY_EVENTS:]:
        event = json.loads(line)
        burst.append((event["event_type"], event["borrower_id"].encode(), line.strip().encode()))

    # With the default settings: the burst must keep event-time order across the topics too,
    # so the audit below compares with replay (docs/reliability.md, "Order under overload").
    worker = start_worker(scratch_stack, tmp_path, "overload")
    samples: list[tuple[float, int, int]] = []  # (seconds, lag, rss)
    stop_sampling = threading.Event()

    def sample() -> None:
        assert worker.process is not None
        while not stop_sampling.is_set():
            try:
                samples.append((time.monotonic() - started, group_lag(scratch_stack),
                                rss_bytes(worker.process.pid)))  # fmt: skip
            except (OSError, AssertionError):
                return
            stop_sampling.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        wait_ready(worker)
        assert worker.process is not None
        SteadyProducer(scratch_stack, steady, STEADY_RATE).run()
        wait_until(lambda: group_lag(scratch_stack) == 0, 120, "steady phase processed",
                   worker.log_tail)  # fmt: skip
        baseline = rss_bytes(worker.process.pid)
        sampler.start()
        burst_started = time.monotonic()
        send_all(scratch_stack, burst)
        burst_rate = BURST_EVENTS / (time.monotonic() - burst_started)
        wait_until(lambda: group_lag(scratch_stack) == 0, 300, "lag drained", worker.log_tail)
        drained_after = time.monotonic() - burst_started
        audit = settle_and_audit(scratch_stack, events, tmp_path / "replay", 0, [worker])
        alive = worker.process.poll() is None
    finally:
        stop_sampling.set()
        worker.stop()

    peak_lag = max(lag for _, lag, _ in samples)
    peak_rss = max(rss for _, _, rss in samples)
    drain_rate = BURST_EVENTS / drained_after
    report("overload", steady_events=STEADY_EVENTS, burst_events=BURST_EVENTS,
           burst_rate=round(burst_rate), drain_rate=round(drain_rate),
           burst_to_drain_ratio=round(burst_rate / drain_rate, 1), peak_lag=peak_lag,
           baseline_rss_mb=round(baseline / 2**20), peak_rss_mb=round(peak_rss / 2**20),
           **audit.counts(), seconds=round(time.monotonic() - started))  # fmt: skip
    assert alive, worker.log_tail()
    assert peak_lag >= BURST_EVENTS // 4, "the burst must outrun the worker"
    assert samples[-1][1] == 0 or group_lag(scratch_stack) == 0
    assert peak_rss < MAX_RSS
    assert peak_rss - baseline < MAX_RSS_GROWTH
    audit.assert_exact([])
