"""``loanwatch bench pipeline``: the whole pipeline on the real broker and database, measured.

Every phase runs in a namespace of its own (topic prefix, Faust app id, scratch database), so
a run leaves the configured topics and database alone and removes what it made:

* **pipeline**: simulated events are produced first; one worker drains them into tier
  changes, alerts and PostgreSQL rows (scoring and publishing matured outcomes; learning
  belongs to ``loanwatch trainer``, a process of its own, which is not running here). The
  rate counts every event, from the worker's first round taking its inputs to its last
  round's acknowledgement (the worker's own clock), so start-up and table recovery are not
  in it. Then a second worker (consumer group, changelog and database of its
  own) drains the same input again, and the figures are the means of the two drains: one
  drain's rate moved by a third between runs of the same code (with the sizes of its rounds,
  which follow what the consumer fetched meanwhile, and the machine);
* **warm-up**: a ceiling run and a drain, as below, neither of them counted: on the
  benchmark's machine the first drain after the input was produced spent 2.4 s of system
  CPU in the worker and 3.3 s in the broker, the next one 0.7 and 0.9, at 38.6 against
  27.0 us of the worker's CPU per event (a fresh worker process each time; round 12 of
  ``bench/RESULTS.md``), and the first ceiling run after producing read as little as 40,000
  events/s against 70,000 for the next;
* **ceiling**: :func:`streams.ceiling.run_ceiling` over the same input topics, once before
  the pipeline's drains and once after them; its rate is the mean of the two, so that
  ``pipeline_to_ceiling_ratio`` compares runs that bracket the drains (the machine's speed
  drifts by a third within minutes, and a single ceiling run a minute after the drain put
  the same code's ratio anywhere from 0.30 to 0.59);
* **two workers**: a consumer group of two workers on input topics of their own, filled
  with a copy of the pipeline's input only once both are ready (started on a full topic,
  the first worker to join drained most of it alone while the second started and the group
  rebalanced, which left the figure to the drain's tail: 0.29 in one run);
* **state size**: the mean size of the latest state per borrower in the changelog;
* **recovery**: a worker whose changelog holds ``recovery_borrowers`` states (the measured
  ones, copied under new ids), timed from start to ``/ready``, less the start-up time of a
  worker with no state;
* **latency**: a live stream at ``latency_rate`` events/s for ``latency_s`` seconds; each
  alert's latency runs from its causing event's send to the alert's arrival at a consumer.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, cast

import psycopg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from kafka import KafkaProducer
from psycopg import sql
from tqdm import tqdm

from detectors.events import parse_event
from detectors.policy import load_policy
from detectors.state import BorrowerState
from streams.bench import write_events
from streams.ceiling import run_ceiling
from streams.kafka_security import aiokafka_kwargs, kafka_python_kwargs
from streams.migrate import create_database, drop_database, migrate
from streams.produce import produce_file, route
from streams.round_sender import RoundSender
from streams.settings import Settings
from streams.topics import (
    TopicPlan,
    TopicSpec,
    create_topics,
    delete_topics_containing,
    records_to_end,
)
from streams.worker_process import WorkerProcess, metric_total, wait_for

__all__ = ["BenchConfig", "bench_pipeline", "percentile"]

TABLE = "borrowers"  # the Faust table of streams.pipeline
SEND_TICK_S = 0.01  # the latency phase's sending granularity
ACKNOWLEDGED_AT = "loanwatch_inputs_acknowledged_timestamp_seconds"  # a worker's clock
FIRST_TAKEN_AT = "loanwatch_first_input_taken_timestamp_seconds"  # and its start
COUNT = sql.SQL("select count(*) from {}")


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of a pipeline benchmark run.

    >>> BenchConfig().events, BenchConfig(events=10).latency_rate
    (200000, 2000.0)
    """

    events: int = 200_000
    seed: int = 42
    recovery_borrowers: int = 100_000
    latency_rate: float = 2000.0
    latency_s: float = 60.0
    drain_timeout_s: float = 1800.0


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values`` by linear interpolation.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([], 99)
    (2.5, None)
    """
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[min(98, max(0, int(q) - 1))]


class Namespace:
    """One phase's topic prefix, app id and settings; ``topics_of`` another namespace, its
    workers read and write that one's topics (under an app id, so a changelog, of their own).

    >>> ns = Namespace(Settings(), "r1", "main")
    >>> ns.prefix, ns.app_id, ns.changelog
    ('lwbench.r1.main.', 'lwbench-r1-main', 'lwbench-r1-main-borrowers-changelog')
    >>> again = Namespace(Settings(), "r1", "again", topics_of=ns)
    >>> again.prefix, again.app_id
    ('lwbench.r1.main.', 'lwbench-r1-again')
    """

    def __init__(self, base: Settings, run_id: str, name: str,
                 topics_of: Namespace | None = None) -> None:  # fmt: skip
        self.prefix: str = topics_of.prefix if topics_of else f"lwbench.{run_id}.{name}."
        self.app_id = f"lwbench-{run_id}-{name}"
        self.settings = base.model_copy(update={"topic_prefix": self.prefix,
                                                "app_id": self.app_id})  # fmt: skip
        self.plan = TopicPlan(self.settings, load_policy())

    def env(self, database_url: str, **extra: str) -> dict[str, str]:
        """Worker environment for this namespace."""
        return {"LOANWATCH_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
                "LOANWATCH_DATABASE_URL": database_url, "LOANWATCH_TOPIC_PREFIX": self.prefix,
                "LOANWATCH_APP_ID": self.app_id, "LOANWATCH_LOG_LEVEL": "WARNING",
                "LOANWATCH_MODEL_SNAPSHOT_EVERY": "1000000000",
                "LOANWATCH_TRAIN_IN_WORKER": "false", **extra}  # fmt: skip

    @property
    def changelog(self) -> str:
        return f"{self.app_id}-{TABLE}-changelog"


@contextmanager
def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """A migrated database ``name`` beside the one of ``server_url``, dropped afterwards."""
    url = create_database(server_url, name)
    try:
        migrate(url, Settings().migrations_dir)
        yield url
    finally:
        drop_database(server_url, name)


def drain(workers: list[WorkerProcess], expected: int, timeout_s: float,
          label: str) -> dict[str, Any]:  # fmt: skip
    """Wait until the workers have written the outputs of ``expected`` events; events/s while
    they drain, and the workers' CPU time per event over the whole drain.

    The rate counts every event over the workers' own clock: from the first of them taking
    its first round's inputs (``loanwatch_first_input_taken_timestamp_seconds``) to the last
    round's acknowledgement (``loanwatch_inputs_acknowledged_timestamp_seconds``). Not a
    poll's time, which comes up to a poll interval late, and not the first acknowledgement a
    poll sees: the round after it was mostly decided by then, more so the larger a round is
    (rounds of 100,000 read as 120,000 events/s so).
    """
    cpu_before = sum(w.cpu_seconds() for w in workers)
    deadline = time.monotonic() + timeout_s
    with tqdm(total=expected, unit="event", desc=label, leave=False) as bar:
        while True:
            samples = [w.metrics() for w in workers]
            written = sum(metric_total(s, "loanwatch_ingest_to_output_seconds_count")
                          for s in samples)  # fmt: skip
            pending = sum(metric_total(s, "loanwatch_sink_pending_rows") for s in samples)
            bar.update(int(written) - bar.n)
            if written >= expected and pending == 0:
                break
            dead = [w.name for w in workers if not w.running]
            if dead or time.monotonic() > deadline:
                tail = "\n".join(w.log_tail(20) for w in workers)
                raise RuntimeError(f"{label}: {int(written)} of {expected} events written "
                                   f"({'exited: ' + ', '.join(dead) if dead else 'timed out'})"
                                   f"\n{tail}")  # fmt: skip
            time.sleep(0.5)
    started = min(value for s in samples if (value := metric_total(s, FIRST_TAKEN_AT)) > 0)
    seconds = max(metric_total(s, ACKNOWLEDGED_AT) for s in samples) - started
    cpu_s = sum(w.cpu_seconds() for w in workers) - cpu_before
    return {"events": expected, "seconds": round(seconds, 2),
            "events_per_second": round(expected / seconds, 1) if seconds > 0 else None,
            "cpu_us_per_event": round(cpu_s / expected * 1e6, 1)}  # fmt: skip


def start_workers(ns: Namespace, database_url: str, workdir: Path, count: int,
                  stack: ExitStack) -> list[WorkerProcess]:  # fmt: skip
    """Start ``count`` workers of ``ns`` (stopped when ``stack`` closes) and wait until ready."""
    workers = [WorkerProcess(workdir, f"{ns.app_id}-{i}", ns.env(database_url)).start()
               for i in range(count)]  # fmt: skip
    for worker in workers:
        stack.callback(worker.stop)
    for worker in workers:
        wait_for(worker.ready, 300, f"{worker.name} ready")
    return workers


def latest_values(bootstrap: str, topic: str) -> tuple[dict[bytes, bytes], int]:
    """The latest value per key of ``topic`` (a changelog), read to its current end, and how
    many records it holds."""
    records = records_to_end(bootstrap, topic)
    latest = {record.key: record.value for record in records
              if record.key is not None and record.value is not None}  # fmt: skip
    return latest, len(records)


def fill_changelog(bootstrap: str, ns: Namespace, states: list[bytes], borrowers: int) -> None:
    """Write ``borrowers`` states to ``ns``'s changelog, copies of ``states`` under new ids."""
    partitions = ns.settings.topic_partitions
    create_topics(bootstrap, [TopicSpec(ns.changelog, partitions, {"cleanup.policy": "compact"})])
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024,
                             **kafka_python_kwargs())  # fmt: skip
    try:
        for number in tqdm(range(borrowers), desc="changelog", unit="state", leave=False):
            state = BorrowerState.from_bytes(states[number % len(states)])
            state.borrower_id = f"r{number:07d}"
            producer.send(ns.changelog, key=state.borrower_id.encode(), value=state.to_bytes())
        producer.flush()
    finally:
        producer.close()


def time_to_ready(worker: WorkerProcess, stack: ExitStack) -> float:
    """Seconds from starting ``worker`` to its ``/ready``."""
    started = time.perf_counter()
    worker.start()
    stack.callback(worker.stop)
    wait_for(worker.ready, 600, f"{worker.name} ready", poll_s=0.1)
    return time.perf_counter() - started


def measure_latency(ns: Namespace, worker: WorkerProcess, events_path: Path, rate: float,
                    seconds: float, drain_s: float = 300.0) -> dict[str, Any]:  # fmt: skip
    """Send events at ``rate`` for ``seconds``; latency of each alert from its cause's send.

    Events go out in ticks of ``SEND_TICK_S`` (each when due, or up to a tick early), as
    the steady stream of many upstream producers would arrive. Paced one event at a time,
    kafka-python's producer took 400 us of CPU per event at 2,000 events/s (0.8 of a core,
    on a machine whose two cores the worker, the broker and the database share); in ticks,
    150. ``harness_cpu_us_per_event`` reports what the sending and reading here cost.

    After the last send, alerts are read until ``worker`` has written the outputs of every
    event sent (or ``drain_s`` passed): a worker slower than ``rate`` shows as latency.
    """
    bootstrap = ns.settings.kafka_bootstrap
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    sending = threading.Event()
    sending.set()

    with events_path.open("rb") as lines:  # routed and parsed before the clock starts
        stream = [(target, parse_event(line).event_id, line)
                  for line in islice(lines, int(rate * seconds))
                  if (target := route(line, ns.plan)) is not None]  # fmt: skip

    def send() -> None:
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=int(SEND_TICK_S * 500),
                                 **kafka_python_kwargs())  # half a tick: a tick's sends batch
        started = time.perf_counter()
        for number, ((topic, key), event_id, line) in enumerate(stream):
            ahead = number / rate - (time.perf_counter() - started)
            if ahead > SEND_TICK_S:
                time.sleep(ahead)
            sent_at[event_id] = time.time()
            producer.send(topic, key=key, value=line)
        producer.flush()
        producer.close()
        sending.clear()

    def drained() -> bool:
        written = metric_total(worker.metrics(), "loanwatch_ingest_to_output_seconds_count")
        return written - written_before >= len(sent_at)

    async def read_alerts() -> None:
        # aiokafka's consumer: with kafka-python's, this harness took 250-265 us of CPU per
        # event sent (its consumer alone about 130), now about 210; CPU that the worker, the
        # broker and the database share on a small machine.
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    **aiokafka_kwargs())  # fmt: skip
        await consumer.start()
        try:
            partitions = [TopicPartition(spec.name, p) for spec in ns.plan.alerts.values()
                          for p in range(spec.partitions)]  # as the bench created them
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for tp in partitions:
                await consumer.position(tp)  # resolve the end now, before anything is sent
            sender.start()
            deadline = math.inf
            while time.monotonic() < deadline:
                if not sending.is_set() and deadline == math.inf:
                    deadline = time.monotonic() + drain_s
                if deadline < math.inf and drained():
                    deadline = min(deadline, time.monotonic() + 1.0)  # the last in flight
                batches = await consumer.getmany(timeout_ms=200)
                arrived = time.time()
                for records in batches.values():
                    for record in records:
                        value = cast(bytes, record.value)
                        cause = value.split(b'"cause_event_id":"', 1)[1].split(b'"', 1)[0]
                        sent = sent_at.get(cause.decode())
                        if sent is not None:
                            latencies.append(arrived - sent)
        finally:
            await consumer.stop()

    written_before = metric_total(worker.metrics(), "loanwatch_ingest_to_output_seconds_count")
    cpu_before = time.process_time()
    sender = threading.Thread(target=send, name="latency-sender", daemon=True)
    asyncio.run(read_alerts())
    sender.join()
    harness_cpu_s = time.process_time() - cpu_before
    latencies.sort()
    return {"events_sent": len(sent_at), "alerts": len(latencies), "rate": rate,
            "seconds": seconds, "drained": drained(),
            "harness_cpu_us_per_event": round(harness_cpu_s / max(1, len(sent_at)) * 1e6, 1),
            "p50_ms": _ms(percentile(latencies, 50)), "p99_ms": _ms(percentile(latencies, 99)),
            "max_ms": _ms(latencies[-1] if latencies else None)}  # fmt: skip


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


async def copy_inputs(bootstrap: str, source: TopicPlan, target: TopicPlan) -> dict[str, Any]:
    """Copy every record of ``source``'s input topics to ``target``'s, each to the partition
    it was in (key, value and order kept): read whole first, then sent at once, a record
    batch per partition, so that workers waiting on ``target`` read it as a backlog."""
    started = time.perf_counter()
    sender = RoundSender(bootstrap)
    copied = 0
    try:
        for kind, spec in source.inputs.items():
            for record in records_to_end(bootstrap, spec.name):
                sender.add(target.inputs[kind].name, record.partition, record.key, record.value)
                copied += 1
        await (await sender.send())
    finally:
        await sender.close()
    return {"events": copied, "seconds": round(time.perf_counter() - started, 3)}


def mean_of(runs: list[dict[str, Any]], *figures: str) -> dict[str, Any]:
    """A phase's ``figures`` as the means of its runs' (None where a run lacks one), with each
    run kept.

    >>> phase = mean_of([{"events_per_second": 30000.0}, {"events_per_second": 20000.0}],
    ...                 "events_per_second")
    >>> phase["events_per_second"], len(phase["runs"])
    (25000.0, 2)
    """
    means: dict[str, Any] = {}
    for figure in figures:
        values = [run[figure] for run in runs if run.get(figure) is not None]
        complete = values and len(values) == len(runs)
        means[figure] = round(statistics.fmean(values), 1) if complete else None
    return {**means, "runs": runs}


def drain_once(ns: Namespace, base: Settings, workdir: Path, count: int, timeout_s: float,
               stack: ExitStack) -> dict[str, Any]:  # fmt: skip
    """One worker of ``ns``, with a scratch database, drains ``count`` events (:func:`drain`);
    with the rows it wrote."""
    database = stack.enter_context(scratch_database(base.database_url, ns.app_id))
    [worker] = start_workers(ns, database, workdir, 1, stack)
    result = drain([worker], count, timeout_s, f"one worker ({ns.app_id})")
    with psycopg.connect(database) as conn:
        result["rows"] = {
            table: conn.execute(COUNT.format(sql.Identifier(table))).fetchone()[0]  # type: ignore[index]
            for table in ("tier_history", "alerts", "borrower_tiers")
        }  # fmt: skip
    worker.stop()
    return result


def bench_pipeline(config: BenchConfig, workdir: Path,
                   base: Settings | None = None) -> dict[str, Any]:  # fmt: skip
    """Run every phase; the figures of ``bench/results.json``."""
    base = base or Settings()
    run_id = uuid.uuid4().hex[:8]
    bootstrap = base.kafka_bootstrap
    main, recovery, live = (Namespace(base, run_id, n) for n in ("main", "recovery", "live"))
    again = Namespace(base, run_id, "again", topics_of=main)  # the second drain
    warm_up = Namespace(base, run_id, "warmup", topics_of=main)
    pair = Namespace(base, run_id, "pair")  # two workers; the main input copied to its topics
    ceiling_out = Namespace(base, run_id, "ceiling")
    results: dict[str, Any] = {}
    try:
        with ExitStack() as stack:
            for ns in (main, recovery, live, ceiling_out, pair):
                create_topics(bootstrap, ns.plan.all())
            events = workdir / "events.jsonl"
            count = write_events(events, config.events, config.seed)
            produced = produce_file(events, bootstrap, main.plan, show_progress=True)
            results["produce"] = {"events": produced.sent, "seconds": produced.seconds}

            def ceiling() -> dict[str, Any]:  # one run of the raw ceiling over main's input
                return asyncio.run(run_ceiling(bootstrap, main.plan, ceiling_out.plan,
                                               load_policy(), count))  # fmt: skip

            results["warm_up"] = {
                "ceiling": ceiling(),
                "pipeline": drain_once(warm_up, base, workdir, count, config.drain_timeout_s,
                                       stack),
            }  # fmt: skip

            ceilings = [ceiling()]
            drains = [drain_once(ns, base, workdir, count, config.drain_timeout_s, stack)
                      for ns in (main, again)]  # fmt: skip
            results["pipeline"] = mean_of(drains, "events_per_second", "cpu_us_per_event")
            states, writes = latest_values(bootstrap, main.changelog)
            sizes = [len(value) for value in states.values()]
            mean = round(statistics.fmean(sizes), 1) if sizes else None
            # how often a borrower's state was written: once a round it changed in, so it
            # follows the rounds' sizes, which vary from drain to drain
            results["state"] = {"borrowers": len(sizes), "mean_bytes": mean, "writes": writes,
                                "writes_per_event": round(writes / count, 3)}  # fmt: skip

            ceilings.append(ceiling())
            results["ceiling"] = mean_of(ceilings, "events_per_second")

            pair_db = stack.enter_context(scratch_database(base.database_url, pair.app_id))
            two = start_workers(pair, pair_db, workdir, 2, stack)
            wait_for(lambda: all(w.ready() for w in two), 300, "both workers ready")
            with ThreadPoolExecutor(1) as copier:  # the drain polls meanwhile
                copied = copier.submit(asyncio.run, copy_inputs(bootstrap, main.plan, pair.plan))
                results["two_workers"] = drain(two, count, config.drain_timeout_s,
                                               "two workers")  # fmt: skip
                results["two_workers"]["copy"] = copied.result()
            for worker in two:
                worker.stop()

            live_db = stack.enter_context(scratch_database(base.database_url, live.app_id))
            worker = WorkerProcess(workdir, live.app_id, live.env(live_db))
            empty_ready_s = time_to_ready(worker, stack)
            if states:
                fill_changelog(bootstrap, recovery, list(states.values()),
                               config.recovery_borrowers)  # fmt: skip
                rec_db = stack.enter_context(scratch_database(base.database_url, recovery.app_id))
                restored = WorkerProcess(workdir, recovery.app_id, recovery.env(rec_db))
                ready_s = time_to_ready(restored, stack)
                restored.stop()
                results["recovery"] = {
                    "borrowers": config.recovery_borrowers, "ready_s": round(ready_s, 2),
                    "startup_without_state_s": round(empty_ready_s, 2),
                }  # fmt: skip

            live_events = workdir / "live.jsonl"
            write_events(live_events, int(config.latency_rate * config.latency_s), config.seed + 1)
            results["latency"] = measure_latency(live, worker, live_events, config.latency_rate,
                                                 config.latency_s)  # fmt: skip
    finally:
        delete_topics_containing(bootstrap, run_id)
    return results
