"""The migration runner against a real PostgreSQL server."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from streams.migrate import MigrationError, migrate
from streams.settings import REPO_ROOT

SQL = REPO_ROOT / "sql"


def copy_of_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "sql"
    shutil.copytree(SQL, folder)
    return folder


def recorded_versions(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select version, checksum from schema_migrations order by version")
        return list(rows)


def test_applying_twice_is_a_no_op_the_second_time(fresh_database: str) -> None:
    first = migrate(fresh_database, SQL)
    before = recorded_versions(fresh_database)
    second = migrate(fresh_database, SQL)

    assert [m.path.name for m in first] == sorted(p.name for p in SQL.glob("*.sql"))
    assert second == []
    assert recorded_versions(fresh_database) == before


def test_every_migration_creates_what_it_declares(fresh_database: str) -> None:
    migrate(fresh_database, SQL)
    with psycopg.connect(fresh_database) as conn:
        tables = {row[0] for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
        )}
    assert {"schema_migrations", "dead_letters"} <= tables


def test_a_changed_applied_migration_is_refused(fresh_database: str, tmp_path: Path) -> None:
    folder = copy_of_migrations(tmp_path)
    migrate(fresh_database, folder)
    first = sorted(folder.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after it ran\n")

    with pytest.raises(MigrationError, match=rf"{first.name} was changed after it was applied"):
        migrate(fresh_database, folder)


def test_a_new_migration_is_applied_after_the_old_ones(fresh_database: str, tmp_path: Path) -> None:
    folder = copy_of_migrations(tmp_path)
    migrate(fresh_database, folder)
    (folder / "900_extra.sql").write_text("create table extra (id int primary key);")

    applied = migrate(fresh_database, folder)

    assert [m.version for m in applied] == [900]
    assert recorded_versions(fresh_database)[-1][0] == 900


def test_a_failing_migration_leaves_no_record_and_no_partial_change(
    fresh_database: str, tmp_path: Path
) -> None:
    folder = copy_of_migrations(tmp_path)
    (folder / "900_broken.sql").write_text("create table half (id int); select * from missing;")

    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate(fresh_database, folder)

    assert 900 not in [version for version, _ in recorded_versions(fresh_database)]
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("select to_regclass('half')").fetchone() == (None,)
