"""The ``loanwatch`` command line.

>>> from typer.testing import CliRunner
>>> "migrate" in CliRunner().invoke(cli, ["db", "--help"]).output
True
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from streams.logs import configure_logging
from streams.settings import get_settings

if TYPE_CHECKING:
    from streams.topics import TopicPlan

cli = typer.Typer(
    help="loanwatch: streaming post-loan monitoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db = typer.Typer(help="The PostgreSQL history store.", no_args_is_help=True)
cli.add_typer(db, name="db")


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations from sql/ to LOANWATCH_DATABASE_URL."""
    from streams.migrate import MigrationError, migrate

    settings = get_settings()
    try:
        applied = migrate(settings.database_url, settings.migrations_dir, report=typer.echo)
    except MigrationError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"{len(applied)} migration(s) applied" if applied else "database is up to date")


topics = typer.Typer(help="loanwatch's Kafka topics.", no_args_is_help=True)
cli.add_typer(topics, name="topics")


def _topic_plan() -> TopicPlan:
    from detectors.policy import load_policy
    from streams.topics import TopicPlan

    settings = get_settings()
    return TopicPlan(settings, load_policy(settings.policy_path))


@topics.command("create")
def topics_create() -> None:
    """Create every loanwatch topic that does not exist yet (idempotent)."""
    from streams.topics import create_topics

    created, existing = create_topics(get_settings().kafka_bootstrap, _topic_plan().all())
    for name in created:
        typer.echo(f"created {name}")
    typer.echo(f"{len(created)} created, {len(existing)} already there")


@cli.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(ctx: typer.Context) -> None:
    """Start a Faust worker from LOANWATCH_* settings (extra options go to Faust)."""
    from streams.topics import create_topics

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    create_topics(settings.kafka_bootstrap, _topic_plan().all())
    from streams.app import app

    sys.argv = ["loanwatch", "worker", *ctx.args]
    app.main()


@cli.command()
def trainer() -> None:
    """Run the model trainer in a process of its own (workers: LOANWATCH_TRAIN_IN_WORKER=false)."""
    import asyncio

    from detectors.policy import load_policy
    from streams.modelsync import run_forever, trainer_for

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    job = trainer_for(settings, load_policy(settings.policy_path))
    try:
        asyncio.run(run_forever("trainer", job.run))
    except KeyboardInterrupt:
        typer.echo("trainer stopped", err=True)


@cli.command()
def replay(
    events: Annotated[Path, typer.Argument(help="JSONL file, one event a line.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")],
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML (default: the shipped one).")
    ] = None,
) -> None:
    """Replay EVENTS in process through the detectors core into --out (no Kafka, no database)."""
    from detectors.policy import PolicyError, load_policy
    from streams.replay import ReplayError, replay_file

    try:
        summary = replay_file(events, out, load_policy(policy))
    except (PolicyError, ReplayError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(
        f"{summary['events']} events, {summary['rejected']} rejected, "
        f"{summary['borrowers']} borrowers, tiers {summary['tier_counts']}; outputs in {out}"
    )


@cli.command()
def backtest(
    events: Annotated[Path, typer.Argument(help="JSONL file, one event a line.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and charts.")],
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML (default: the shipped one).")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A second policy TOML to compare with.")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Ground-truth CSV from loanwatch simulate.")
    ] = None,
) -> None:
    """Replay EVENTS under --policy (and --compare) and write an HTML report with charts."""
    from detectors.policy import PolicyError
    from streams.backtest import run_backtest
    from streams.replay import ReplayError
    from streams.truth import TruthError

    try:
        summary = run_backtest(events, out, policy, compare_with=compare, truth=truth,
                               progress=sys.stderr.isatty())  # fmt: skip
    except (PolicyError, ReplayError, TruthError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"tiers {summary['tier_counts']}; report in {out / 'report.html'}")
    share, lead = summary["share_flagged_before_bad"], summary["median_lead_days"]
    if share is not None:
        typer.echo(f"{share:.1%} of the borrowers who go bad reach C or D first; "
                   f"median lead {lead} days")  # fmt: skip


@cli.command()
def produce(
    events: Annotated[Path, typer.Argument(help="JSONL file, one event a line.")],
    rate: Annotated[
        float | None, typer.Option("--rate", min=1, help="Events per second (default: all out).")
    ] = None,
) -> None:
    """Send EVENTS to the input topics, each keyed by its borrower_id."""
    from streams.produce import produce_file

    if not events.is_file():
        typer.echo(f"error: {events} is not a readable file", err=True)
        raise typer.Exit(2)
    report = produce_file(events, get_settings().kafka_bootstrap, _topic_plan(), rate=rate,
                          show_progress=sys.stderr.isatty())  # fmt: skip
    typer.echo(f"{report.sent} events sent in {report.seconds} s")
    if report.skipped:
        typer.echo(f"{report.skipped} lines could not be routed (lines "
                   f"{', '.join(map(str, report.skipped_lines))}...)", err=True)  # fmt: skip


@cli.command()
def simulate(
    borrowers: Annotated[int, typer.Option("--borrowers", min=1, help="Borrowers.")] = 5000,
    months: Annotated[int, typer.Option("--months", min=1, help="Months of event time.")] = 12,
    seed: Annotated[int, typer.Option("--seed", help="Simulation seed.")] = 42,
    out: Annotated[Path, typer.Option("--out", help="JSONL file for the events.")] = Path(
        "events.jsonl"
    ),
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Truth CSV (default: truth.csv beside --out).")
    ] = None,
    kafka: Annotated[
        bool, typer.Option("--kafka/--no-kafka", help="Also send the events to the input topics.")
    ] = False,
    rate: Annotated[
        float | None, typer.Option("--rate", min=1, help="With --kafka: events/s (default: max).")
    ] = None,
) -> None:
    """Simulate a seeded portfolio: contract-v1 events to --out (and Kafka), truth beside them."""
    from detectors.simulation import Simulation
    from streams.produce import produce_file
    from streams.simulate import write_simulation

    truth_path = truth if truth is not None else out.parent / "truth.csv"
    show = sys.stderr.isatty()
    sim = Simulation(borrowers=borrowers, seed=seed, months=months)
    report = write_simulation(sim, out, truth_path, show_progress=show)
    typer.echo(f"{report.events} events for {report.borrowers} borrowers ({report.bad} go bad) "
               f"in {out}; truth in {truth_path}")  # fmt: skip
    if kafka:
        sent = produce_file(out, get_settings().kafka_bootstrap, _topic_plan(), rate=rate,
                            show_progress=show)  # fmt: skip
        typer.echo(f"{sent.sent} events sent to Kafka in {sent.seconds} s")


@cli.command()
def demo(
    borrowers: Annotated[int, typer.Option("--borrowers", min=1, help="Borrowers.")] = 5000,
    months: Annotated[int, typer.Option("--months", min=1, help="Months of event time.")] = 12,
    seed: Annotated[int, typer.Option("--seed", help="Simulation seed.")] = 42,
    rate: Annotated[
        float | None, typer.Option("--rate", min=1, help="Events/s into Kafka (default: max).")
    ] = None,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Leave the worker and the stack running.")
    ] = False,
) -> None:
    """The whole pipeline on a simulated portfolio: stack, worker, live summary, report."""
    from streams.demo import DemoError, DemoOptions, run_demo

    options = DemoOptions(borrowers=borrowers, months=months, seed=seed, rate=rate,
                          keep_running=keep_running)  # fmt: skip
    try:
        run_demo(options, typer.echo)
    except DemoError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error


bench = typer.Typer(help="Benchmarks (measurements, not tests).", no_args_is_help=True)
cli.add_typer(bench, name="bench")


@bench.command("core")
def bench_core_command(
    events: Annotated[int, typer.Option("--events", min=1, help="Events to generate.")] = 1_000_000,
    seed: Annotated[int, typer.Option("--seed", help="Simulation seed.")] = 42,
    out: Annotated[Path | None, typer.Option("--out", help="Write the result as JSON.")] = None,
) -> None:
    """Time in-process replay of simulated events through the detectors core."""
    import json

    from streams.bench import bench_core

    result = bench_core(events, seed)
    typer.echo(f"{result['events']} events in {result['seconds']} s: "
               f"{result['events_per_second']:,.0f} events/s")  # fmt: skip
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


@bench.command("all")
def bench_all_command(
    events: Annotated[
        int, typer.Option("--events", min=1000, help="Events the pipeline drains.")
    ] = 200_000,
    core_events: Annotated[
        int, typer.Option("--core-events", min=1, help="Events of the core benchmark.")
    ] = 300_000,
    recovery_borrowers: Annotated[
        int, typer.Option("--recovery-borrowers", min=1, help="States for the recovery phase.")
    ] = 100_000,
    latency_s: Annotated[
        float, typer.Option("--latency-seconds", min=1, help="Length of the latency phase.")
    ] = 60.0,
    latency_rate: Annotated[
        float, typer.Option("--latency-rate", min=1, help="Events/s of the latency phase.")
    ] = 2000.0,
    out: Annotated[Path, typer.Option("--out", help="Folder for results.json, RESULTS.md.")] = Path(
        "bench"
    ),
    workdir: Annotated[
        Path | None, typer.Option("--workdir", help="Keep event files and worker logs here.")
    ] = None,
) -> None:
    """Core, pipeline, ceiling, two workers, recovery and latency on the local stack."""
    import signal
    import tempfile
    from contextlib import nullcontext
    from datetime import UTC, datetime

    from streams.bench import bench_core
    from streams.bench_pipeline import BenchConfig, bench_pipeline
    from streams.bench_report import environment, write_results

    # A terminated run still stops its workers and removes its topics and databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = get_settings()
    typer.echo(f"core: {core_events:,} events in process", err=True)
    results: dict[str, object] = {"core": bench_core(core_events, seed=42)}
    config = BenchConfig(events=events, recovery_borrowers=recovery_borrowers,
                         latency_s=latency_s, latency_rate=latency_rate)  # fmt: skip
    if workdir:
        workdir.mkdir(parents=True, exist_ok=True)
    keep = nullcontext(str(workdir)) if workdir else None
    with keep or tempfile.TemporaryDirectory(prefix="loanwatch-bench-") as tmp:
        typer.echo(f"pipeline: {events:,} events through real Kafka and PostgreSQL", err=True)
        results["pipeline"] = bench_pipeline(config, Path(tmp), settings)
    results["environment"] = environment(settings.database_url)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    document = write_results(results, out)
    for name, value in document["figures"].items():
        typer.echo(f"{name:32} {value}")
    typer.echo(f"written to {out / 'results.json'} and {out / 'RESULTS.md'}")


evaluate = typer.Typer(help="Evaluate the models on labelled data.", no_args_is_help=True)
cli.add_typer(evaluate, name="evaluate")


@evaluate.command("taiwan")
def evaluate_taiwan(
    data: Annotated[Path, typer.Option("--data", help="The Taiwan default-of-credit-card CSV.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for metrics.json and charts.")],
    delay: Annotated[
        int, typer.Option("--delay", min=0, help="Clients scored before a label is learned.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the client order.")] = 0,
    learn_early: Annotated[
        bool,
        typer.Option(
            "--learn-early/--no-learn-early",
            help="Also learn outcomes that mature inside each client's six months.",
        ),
    ] = False,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML (default: the shipped one).")
    ] = None,
) -> None:
    """Replay the Taiwan file through the engine with delayed labels; write metrics and plots."""
    from detectors.policy import PolicyError, load_policy
    from streams.evaluate import DatasetError, run_taiwan

    try:
        metrics = run_taiwan(
            data, out, load_policy(policy), delay=delay, seed=seed, learn_early=learn_early,
            show_progress=sys.stderr.isatty(),
        )  # fmt: skip
    except (PolicyError, DatasetError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(
        f"AUC all {metrics['auc_all']:.4f}, last 20,000 {metrics['auc_last_20000']:.4f}; "
        f"default rate by tier {_rates(metrics['default_rate_by_tier'])}; "
        f"{metrics['seconds']} s; outputs in {out}"
    )


def _rates(rates: dict[str, float | None]) -> str:
    return " ".join(f"{tier}={'-' if r is None else f'{r:.3f}'}" for tier, r in rates.items())


def main() -> None:
    """Entry point of the ``loanwatch`` console script."""
    cli()


if __name__ == "__main__":
    main()
