"""Outages under load: PostgreSQL stopped for 30 s, and the Kafka broker restarted.

Both use a service of the test's own (``own_postgres`` / ``own_kafka``), never the shared
local stack. While PostgreSQL is down the worker's round waits in the sink's retries: rows
stay buffered (``loanwatch_sink_pending_rows``), failed attempts are counted
(``loanwatch_sink_failures_total``), offsets are not committed (the group's lag grows), and
memory stays bounded. When the broker restarts, the worker and the producer reconnect. In
both cases the audit afterwards must find every row exactly once and every output in Kafka.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from streams.migrate import migrate
from streams.settings import REPO_ROOT
from tests.conftest import Stack, scratch_database
from tests.e2e.pipeline_support import group_lag, simulated_events
from tests.reliability.conftest import OwnService
from tests.reliability.malformed import malformed
from tests.reliability.support import (
    SteadyProducer,
    metric_sum,
    metric_values,
    report,
    rss_bytes,
    seeded,
    settle_and_audit,
    start_worker,
    wait_ready,
)

EVENTS = 6000
RATE = 100.0  # events/s: a minute of steady load
BAD_EVERY = 200
OUTAGE_S = 30
DB_PASSWORD = "pg-secret-7f3a91"  # the local cluster trusts loopback, so any password works
MAX_PENDING_ROWS = 20_000  # one round's rows wait during an outage, never the whole stream
MAX_RSS_GROWTH = 400 * 1024 * 1024


def bad_messages(good_file: Path, seed: int) -> Any:
    good = [json.loads(line) for line in good_file.read_text().splitlines()]
    rng = seeded(seed)

    def bad(_: int) -> tuple[str, bytes | None, bytes]:
        kind, key, value, _name = malformed(rng, good)
        return kind, key, value

    return bad


def test_a_database_outage_pauses_processing_and_loses_no_row(
    own_postgres: tuple[OwnService, str], stack: Stack, tmp_path: Path
) -> None:
    started = time.monotonic()
    service, url = own_postgres
    url = url.replace("loanwatch@", f"loanwatch:{DB_PASSWORD}@")
    run_id = f"{stack.run_id}pgout"
    mine = Stack(run_id, stack.kafka_bootstrap, url, f"lwtest.{run_id}.")
    events = simulated_events(tmp_path / "events.jsonl", EVENTS, seed=61)
    producer = SteadyProducer(mine, events, RATE, bad=bad_messages(events, 6161),
                              bad_every=BAD_EVERY)  # fmt: skip
    worker = start_worker(mine, tmp_path, "pgout")
    samples: list[dict[str, float]] = []
    try:
        wait_ready(worker)
        assert worker.process is not None
        producer.start()
        time.sleep(10)
        baseline_rss = rss_bytes(worker.process.pid)
        service.stop()
        outage_started = time.monotonic()
        while time.monotonic() - outage_started < OUTAGE_S:
            values = metric_values(worker)
            samples.append({
                "pending": metric_sum(values, "loanwatch_sink_pending_rows"),
                "failures": metric_sum(values, "loanwatch_sink_failures_total"),
                "rss": rss_bytes(worker.process.pid),
                "lag": group_lag(mine),
            })  # fmt: skip
            time.sleep(2)
        service.start()
        producer.join_checked()
        audit = settle_and_audit(mine, events, tmp_path / "replay", len(producer.bad_sent),
                                 [worker])  # fmt: skip
        after = metric_values(worker)
        alive = worker.process.poll() is None
    finally:
        worker.stop()
    log = worker.log_path.read_text(errors="replace")

    peak_pending = max(s["pending"] for s in samples)
    peak_rss = max(s["rss"] for s in samples)
    report("database outage", events=producer.sent, malformed=len(producer.bad_sent),
           outage_s=OUTAGE_S, peak_pending_rows=int(peak_pending),
           failed_flushes=int(metric_sum(after, "loanwatch_sink_failures_total")),
           peak_lag=max(s["lag"] for s in samples),
           rss_growth_mb=round((peak_rss - baseline_rss) / 2**20), **audit.counts(),
           seconds=round(time.monotonic() - started))  # fmt: skip
    assert alive, worker.log_tail()
    assert samples[-1]["failures"] > samples[0]["failures"] or samples[-1]["failures"] > 0, (
        "the sink must report failed flushes while PostgreSQL is down"
    )
    assert peak_pending > 0, "rows must wait in the sink during the outage"
    assert peak_pending <= MAX_PENDING_ROWS
    assert max(s["lag"] for s in samples) > 0, "offsets must not be committed during the outage"
    assert peak_rss - baseline_rss < MAX_RSS_GROWTH
    assert metric_sum(after, "loanwatch_sink_pending_rows") == 0
    audit.assert_exact(producer.bad_sent)
    assert DB_PASSWORD not in log, "the database password must never be logged"


def test_a_broker_restart_loses_no_event(
    own_kafka: tuple[OwnService, str], stack: Stack, server_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    service, bootstrap = own_kafka
    run_id = f"{stack.run_id}kafkart"
    databases = scratch_database(server_url, f"lwtest_{run_id}")
    url = next(databases)
    try:
        migrate(url, REPO_ROOT / "sql")
        mine = Stack(run_id, bootstrap, url, f"lwtest.{run_id}.")
        events = simulated_events(tmp_path / "events.jsonl", EVENTS, seed=71)
        producer = SteadyProducer(mine, events, RATE, bad=bad_messages(events, 7171),
                                  bad_every=BAD_EVERY)  # fmt: skip
        worker = start_worker(mine, tmp_path, "kafkart")
        try:
            wait_ready(worker)
            producer.start()
            time.sleep(12)
            sent_before = producer.sent
            service.stop()
            time.sleep(5)
            service.start()
            producer.join_checked(600)
            audit = settle_and_audit(mine, events, tmp_path / "replay",
                                     len(producer.bad_sent), [worker], timeout_s=300)  # fmt: skip
            alive = worker.process is not None and worker.process.poll() is None
        finally:
            worker.stop()
        report("broker restart", events=producer.sent, sent_before_restart=sent_before,
               malformed=len(producer.bad_sent), **audit.counts(),
               seconds=round(time.monotonic() - started))  # fmt: skip
        assert 0 < sent_before < producer.sent, "the restart must happen under load"
        assert alive, worker.log_tail()
        audit.assert_exact(producer.bad_sent)
    finally:
        next(databases, None)
