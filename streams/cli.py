"""The ``loanwatch`` command line.

>>> from typer.testing import CliRunner
>>> "migrate" in CliRunner().invoke(cli, ["db", "--help"]).output
True
"""

from __future__ import annotations

import sys

import typer

from streams.logs import configure_logging
from streams.settings import get_settings

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


@cli.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(ctx: typer.Context) -> None:
    """Start a Faust worker from LOANWATCH_* settings (extra options go to Faust)."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    from streams.app import app

    sys.argv = ["loanwatch", "worker", *ctx.args]
    app.main()


def main() -> None:
    """Entry point of the ``loanwatch`` console script."""
    cli()


if __name__ == "__main__":
    main()
