"""``loanwatch db migrate`` as an operator runs it, against a real database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from streams.settings import REPO_ROOT


def run_migrate(database_url: str, migrations: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LOANWATCH_DATABASE_URL": database_url,
        "LOANWATCH_MIGRATIONS_DIR": str(migrations),
    }
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "db", "migrate"],
        env=env, capture_output=True, text=True, timeout=60,
    )


def test_migrate_reports_what_it_applies_then_that_nothing_is_left(fresh_database: str) -> None:
    first = run_migrate(fresh_database, REPO_ROOT / "sql")
    second = run_migrate(fresh_database, REPO_ROOT / "sql")

    assert first.returncode == 0, first.stderr
    assert "applying 001_dead_letters.sql" in first.stdout
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "database is up to date"


def test_migrate_exits_non_zero_naming_an_edited_migration(
    fresh_database: str, tmp_path: Path
) -> None:
    folder = tmp_path / "sql"
    shutil.copytree(REPO_ROOT / "sql", folder)
    assert run_migrate(fresh_database, folder).returncode == 0
    edited = folder / "001_dead_letters.sql"
    edited.write_text(edited.read_text().replace("reason", "why"))

    result = run_migrate(fresh_database, folder)

    assert result.returncode == 1
    assert "001_dead_letters.sql was changed after it was applied" in result.stderr
