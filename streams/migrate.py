"""Numbered SQL migrations (``sql/NNN_name.sql``) applied in order, each exactly once.

Applied versions are recorded in ``schema_migrations`` with a SHA-256 of the file, so a
migration that was edited after it ran is refused instead of silently diverging. A
PostgreSQL advisory lock serialises concurrent runners (several workers starting at once).

We keep this small runner rather than a migration framework because loanwatch's
migrations are plain SQL and the checksum refusal is the behaviour we need; yoyo and
Alembic would add a Python layer around files that need none.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "001_first.sql").write_text("create table a (x int);")
>>> [(m.version, m.name) for m in discover(folder)]
[(1, 'first')]
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

FILE_PATTERN = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every loanwatch process.
ADVISORY_LOCK_KEY = 0x10A4_3A7C


class MigrationError(RuntimeError):
    """A migration cannot be applied, or the database disagrees with the files."""


@dataclass(frozen=True)
class Migration:
    """One SQL file of ``sql/``.

    >>> Migration(2, "alerts", "create table t ();", Path("002_alerts.sql")).checksum[:12]
    '4371360e658f'
    """

    version: int
    name: str
    sql: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(folder: Path) -> list[Migration]:
    """The migrations in ``folder``, ordered by version; a repeated version is an error."""
    if not folder.is_dir():
        raise MigrationError(f"migrations folder {folder} does not exist")
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"{path.name}: version {version} is also used by {found[version].path.name}"
            )
        found[version] = Migration(version, match.group(2), path.read_text(), path)
    return [found[version] for version in sorted(found)]


BOOKKEEPING = """
create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
)
"""


def migrate(
    database_url: str, folder: Path, *, report: Callable[[str], None] = lambda _: None
) -> list[Migration]:
    """Apply every pending migration of ``folder``; return the ones applied now."""
    migrations = discover(folder)
    applied_now: list[Migration] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            conn.execute(BOOKKEEPING)
            recorded = {
                version: (name, checksum)
                for version, name, checksum in conn.execute(
                    "select version, name, checksum from schema_migrations"
                )
            }
            for migration in migrations:
                if migration.version in recorded:
                    _check_unchanged(migration, *recorded[migration.version])
                    continue
                report(f"applying {migration.path.name}")
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "insert into schema_migrations (version, name, checksum)"
                        " values (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied_now


def _check_unchanged(migration: Migration, name: str, checksum: str) -> None:
    if checksum != migration.checksum:
        raise MigrationError(
            f"{migration.path.name} was changed after it was applied "
            f"(recorded sha256 {checksum[:12]}, file now {migration.checksum[:12]}); "
            "applied migrations are immutable: add a new numbered migration instead"
        )
    if name != migration.name:
        raise MigrationError(
            f"{migration.path.name}: version {migration.version} was applied as '{name}'"
        )


def create_database(server_url: str, name: str, *, replace: bool = False) -> str:
    """Create database ``name`` on the server of ``server_url`` (dropping it first with
    ``replace``); return its URL. For tools and tests that work in a database of their own.
    """
    with psycopg.connect(server_url, autocommit=True) as conn:
        if replace:
            conn.execute(_DROP.format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return make_conninfo(server_url, dbname=name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (if it exists), disconnecting whoever still uses it."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(_DROP.format(sql.Identifier(name)))


_DROP = sql.SQL("drop database if exists {} with (force)")
