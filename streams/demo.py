"""``loanwatch demo`` (``make demo``): the whole pipeline on a simulated portfolio, unattended.

Steps: start the local stack (whatever is not running yet), give this run a clean namespace
(its own app id, topic prefix and database), migrate, create the topics, start one worker,
simulate a portfolio into a JSONL file with its ground truth, send it to Kafka while a live
summary reads the worker's ``/metrics``, wait until the worker has handled every event, back
test the same events against the truth, print where to look, and stop what it started
(unless ``keep_running``).

>>> DemoOptions().borrowers, DemoOptions().months
(5000, 12)
>>> DemoNamespace.for_run("20240101-120000").topic_prefix
'loanwatch-demo.20240101-120000.'
"""

from __future__ import annotations

import collections
import contextlib
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detectors.policy import load_policy
from detectors.simulation import Simulation
from streams.backtest import run_backtest
from streams.dashboard import Snapshot, render
from streams.migrate import create_database, migrate
from streams.produce import ProduceReport, produce_file
from streams.settings import REPO_ROOT, Settings
from streams.simulate import write_simulation
from streams.topics import TopicPlan, create_topics, delete_topics_containing
from streams.worker_process import WorkerProcess, free_port, wait_for

__all__ = ["DemoError", "DemoNamespace", "DemoOptions", "run_demo"]

STACK = REPO_ROOT / "deploy" / "local" / "stack.sh"
SERVICES = ("kafka", "postgres")
Echo = Callable[[str], None]


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and why.

    >>> str(DemoError("worker died"))
    'worker died'
    """


@dataclass(frozen=True)
class DemoOptions:
    """What ``loanwatch demo`` is asked to do."""

    borrowers: int = 5000
    months: int = 12
    seed: int = 42
    rate: float | None = None  # events/s sent to Kafka; None: as fast as possible
    keep_running: bool = False
    out: Path = REPO_ROOT / "out" / "demo"
    web_port: int = 6066
    timeout_s: float = 600.0  # longest wait for the worker to handle every event
    compare: Path | None = REPO_ROOT / "docs" / "examples" / "policy-cautious.toml"
    refresh_s: float = 1.5
    stall_s: float = 180.0  # longest the worker may make no progress with events left


@dataclass(frozen=True)
class DemoNamespace:
    """Names that keep one demo run apart from other runs and from the tests."""

    run_id: str
    app_id: str
    topic_prefix: str
    database: str

    @classmethod
    def for_run(cls, run_id: str) -> DemoNamespace:
        """The names of run ``run_id``; the database is reused (recreated) by every run."""
        return cls(run_id, f"loanwatch-demo-{run_id}", f"loanwatch-demo.{run_id}.",
                   "loanwatch_demo")  # fmt: skip


def services_up() -> dict[str, bool]:
    """Which local services answer now (``stack.sh status``)."""
    result = subprocess.run([str(STACK), "status"], capture_output=True, text=True, check=False)
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    return {service: lines.get(service) == "up" for service in SERVICES}


def stack_up(echo: Echo) -> list[str]:
    """Start what is not running; return the services this call started."""
    before = services_up()
    if all(before.values()):
        echo("==> local stack: Kafka and PostgreSQL already running, left as they are")
        return []
    echo("==> local stack: starting " + ", ".join(s for s, up in before.items() if not up))
    if subprocess.run([str(STACK), "up"], check=False).returncode != 0:
        raise DemoError("deploy/local/stack.sh up failed (its messages are above)")
    return [service for service, up in before.items() if not up]


def stack_down(started: list[str], echo: Echo) -> None:
    """Stop exactly the services :func:`stack_up` started (a stack already running stays)."""
    if not started:
        return
    if set(started) == set(SERVICES):
        subprocess.run([str(STACK), "down"], check=False)
    else:
        for service in started:
            subprocess.run([str(STACK.parent / f"{service}.sh"), "stop"], check=False)
    echo(f"==> local stack: stopped {', '.join(started)} (started by this demo)")


class _Producer(threading.Thread):
    """Sends the events file in the background while the live summary runs."""

    def __init__(self, events: Path, bootstrap: str, plan: TopicPlan, rate: float | None):
        super().__init__(name="demo-producer", daemon=True)
        self.args = (events, bootstrap, plan)
        self.rate = rate
        self.report: ProduceReport | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.report = produce_file(*self.args, rate=self.rate)
        except BaseException as error:  # reported by the main thread
            self.error = error

    def status(self) -> str:
        if self.error is not None:
            return "failed"
        if self.report is None:
            return "sending"
        return f"done ({self.report.sent:,} in {self.report.seconds:.0f} s)"


def watch(worker: WorkerProcess, producer: _Producer, total: int, options: DemoOptions,
          echo: Echo) -> Snapshot:  # fmt: skip
    """Show the live summary until the worker has handled every event sent; the last scrape."""
    tty = sys.stdout.isatty()
    started = time.monotonic()
    history = collections.deque([Snapshot(at=started)], maxlen=8)  # rate over the last ~10 s
    previous = history[-1]
    shown = 0
    progressed = started
    while True:
        time.sleep(options.refresh_s)
        now = Snapshot.from_samples(worker.metrics(), time.monotonic())
        if not now.events and previous.events:
            now = previous  # a scrape that failed: keep the last figures
        lines = render(now, history[0], total=total, producer=producer.status(),
                       elapsed=now.at - started)  # fmt: skip
        history.append(now)
        if tty:
            if shown:
                sys.stdout.write(f"\x1b[{shown}F\x1b[J")
            sys.stdout.write(lines + "\n")
            sys.stdout.flush()
            shown = lines.count("\n") + 1
        elif int(now.at - started) // 10 != int(previous.at - started) // 10:
            echo(lines.splitlines()[0])
        if producer.error is not None:
            raise DemoError(f"sending the events to Kafka failed: {producer.error}")
        if not worker.running:
            raise DemoError(f"the worker exited; last lines of {worker.log_path}:\n"
                            f"{worker.log_tail()}")  # fmt: skip
        if producer.report is not None and now.events >= producer.report.sent:
            if not tty:
                echo(lines)
            return now
        if now.events > previous.events:
            progressed = now.at
        elif now.at - progressed > options.stall_s:
            raise DemoError(f"the worker made no progress for {options.stall_s:.0f} s at "
                            f"{now.events:,} of {total:,} events; last lines of "
                            f"{worker.log_path}:\n{worker.log_tail()}")  # fmt: skip
        if now.at - started > options.timeout_s:
            raise DemoError(f"the worker handled {now.events:,} of {total:,} events in "
                            f"{options.timeout_s:.0f} s; its log: {worker.log_path}")  # fmt: skip
        previous = now


def run_demo(options: DemoOptions, echo: Echo) -> dict[str, Any]:
    """Run the whole demo; returns what it printed at the end as data (for tests and notes)."""
    begun = time.monotonic()
    run_id = time.strftime("%Y%m%d-%H%M%S")
    names = DemoNamespace.for_run(run_id)
    out = options.out / run_id
    out.mkdir(parents=True, exist_ok=True)
    started = stack_up(echo)
    worker: WorkerProcess | None = None
    base = Settings()
    result: dict[str, Any] = {"run_id": run_id, "out": str(out)}
    try:
        database_url = create_database(base.database_url, names.database, replace=True)
        migrate(database_url, base.migrations_dir)
        settings = Settings(app_id=names.app_id, topic_prefix=names.topic_prefix,
                            database_url=database_url)  # fmt: skip
        plan = TopicPlan(settings, load_policy(settings.policy_path))
        create_topics(settings.kafka_bootstrap, plan.all())
        echo(f"==> namespace: app id {names.app_id}, topics {names.topic_prefix}*, "
             f"database {names.database} (migrated)")  # fmt: skip
        port = options.web_port
        if not _port_free(port):
            port = free_port()
            echo(f"    port {options.web_port} is taken; the worker listens on {port}")
        token = secrets.token_hex(8)
        worker = WorkerProcess(out, "worker", {
            "LOANWATCH_APP_ID": names.app_id, "LOANWATCH_TOPIC_PREFIX": names.topic_prefix,
            "LOANWATCH_DATABASE_URL": database_url, "LOANWATCH_API_TOKEN": token,
            "LOANWATCH_WEB_PORT": str(port),
        })  # fmt: skip
        worker.web_port = port
        worker.start()
        echo(f"==> worker: pid {worker.process.pid if worker.process else '?'}, "
             f"log {worker.log_path}")  # fmt: skip
        try:
            wait_for(lambda: worker is not None and (worker.ready() or not worker.running),
                     120, "the worker's /ready")  # fmt: skip
        except TimeoutError as error:
            raise DemoError(f"{error}; last lines of its log:\n{worker.log_tail()}") from None
        if not worker.running:
            raise DemoError(f"the worker exited at start; its log:\n{worker.log_tail()}")
        events, truth = out / "events.jsonl", out / "truth.csv"
        sim = Simulation(borrowers=options.borrowers, seed=options.seed, months=options.months)
        echo(f"==> simulating {options.borrowers:,} borrowers over {options.months} months "
             f"(seed {options.seed})")  # fmt: skip
        simulated = write_simulation(sim, events, truth, show_progress=sys.stderr.isatty())
        echo(f"    {simulated.events:,} events, {simulated.bad:,} borrowers go bad; "
             f"sending to Kafka {'as fast as possible' if options.rate is None else f'at {options.rate:g} events/s'}")  # noqa: E501
        producer = _Producer(events, settings.kafka_bootstrap, plan, options.rate)
        streaming_started = time.monotonic()
        producer.start()
        final = watch(worker, producer, simulated.events, options, echo)
        streaming = time.monotonic() - streaming_started
        echo(f"==> the worker handled all {final.events:,} events in {streaming:.0f} s "
             f"({final.events / streaming:,.0f} events/s end to end)")  # fmt: skip
        example = _example_borrower(worker, token, truth)
        echo("==> backtest: the same events through the same engine, against the truth")
        report_dir = out / "report"
        summary = run_backtest(events, report_dir, compare_with=options.compare, truth=truth,
                               progress=sys.stderr.isatty())  # fmt: skip
        result.update(
            events=simulated.events, borrowers=simulated.borrowers, bad=simulated.bad,
            streaming_seconds=round(streaming, 1),
            events_per_second=round(final.events / streaming, 1),
            live_tiers=final.tiers, backtest_tiers=summary["tier_counts"],
            share_flagged_before_bad=summary["share_flagged_before_bad"],
            median_lead_days=summary["median_lead_days"],
            report=str(report_dir / "report.html"), port=port, token=token,
            example=example, database_url=database_url,
        )  # fmt: skip
    finally:
        if worker is not None and not options.keep_running:
            worker.stop()
        if not options.keep_running:
            try:
                delete_topics_containing(base.kafka_bootstrap, run_id)
            except Exception as error:  # cleanup must not hide the real outcome
                echo(f"    could not delete the demo's topics: {error}")
            stack_down(started, echo)
    result["seconds"] = round(time.monotonic() - begun, 1)
    result["stack_started"] = started
    result["worker_pid"] = worker.process.pid if worker and worker.process else None
    _print_summary(result, options, echo)
    return result


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _example_borrower(worker: WorkerProcess, token: str, truth: Path) -> dict[str, Any]:
    """A borrower who went bad, as the lookup API answers for it (asked while it runs)."""
    from streams.truth import read_truth

    bad = sorted(b for b, o in read_truth(truth).items() if o.goes_bad)
    borrower = bad[0] if bad else "b000000"
    status, body = worker.get(f"/borrowers/{borrower}", token=token)
    answer = body if isinstance(body, dict) else {}
    return {"borrower_id": borrower, "status": status, "tier": answer.get("tier"),
            "reasons": answer.get("reasons")}  # fmt: skip


def _print_summary(result: dict[str, Any], options: DemoOptions, echo: Echo) -> None:
    port, token, example = result["port"], result["token"], result["example"]
    report = Path(result["report"])
    with contextlib.suppress(ValueError):
        report = report.relative_to(Path.cwd())
    live = "   ".join(f"{t} {n:,}" for t, n in result["live_tiers"].items())
    replayed = "   ".join(f"{t} {n:,}" for t, n in result["backtest_tiers"].items())
    running = options.keep_running
    db = result["database_url"]
    echo("")
    echo(f"==> loanwatch demo finished in {result['seconds']:.0f} s")
    echo(f"portfolio    {result['borrowers']:,} borrowers x {options.months} months, seed "
         f"{options.seed}: {result['events']:,} events, {result['bad']:,} go bad")  # fmt: skip
    rate = result["events_per_second"]
    echo(f"streaming    {result['events']:,} events through Kafka and one worker in "
         f"{result['streaming_seconds']:.0f} s ({rate:,.0f} events/s)")  # fmt: skip
    echo(f"tiers        live   {live}")
    echo(f"             replay {replayed}")
    echo("             (the worker's online models take over from the policy scorecard as "
         "outcomes mature; the backtest replays with the scorecard, as loanwatch replay does)")
    share, lead = result["share_flagged_before_bad"], result["median_lead_days"]
    echo(f"early        {share:.1%} of the borrowers who go bad reached C or D first; "
         f"median lead {lead} days")  # fmt: skip
    echo(f"report       {report}   (what-if: {options.compare.name if options.compare else '-'})")
    echo(f"figures      {report.parent / 'summary.json'}")
    echo(f"metrics      http://127.0.0.1:{port}/metrics")
    echo(f"lookup API   curl -H 'Authorization: Bearer {token}' "
         f"http://127.0.0.1:{port}/borrowers/{example['borrower_id']}")  # fmt: skip
    echo(f"             (answered {example['status']}: tier {example['tier']}, reasons "
         f"{', '.join(example['reasons'] or [])})")  # fmt: skip
    echo(f"PostgreSQL   psql '{db}' -c 'select tier, count(*) from borrower_tiers group by 1'")
    echo("             tables: tier_history, alerts, borrower_tiers, dead_letters, "
         "model_snapshots, policy_versions")
    if running:
        echo(f"still up     worker pid {result['worker_pid']} (stop: kill {result['worker_pid']}); "
             f"stack: deploy/local/stack.sh down")  # fmt: skip
    else:
        echo("stopped      the worker, its topics" + (" and the stack it started"
             if result["stack_started"] else "; the stack was already running and stays up")
             + ". Keep everything up: make demo KEEP=1")  # fmt: skip
