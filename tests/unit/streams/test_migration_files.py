"""Discovery of migration files: naming and numbering rules (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.migrate import MigrationError, discover
from streams.settings import REPO_ROOT


def test_the_shipped_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in discover(REPO_ROOT / "sql")]
    assert versions == list(range(1, len(versions) + 1))


def test_a_repeated_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "001_a.sql").write_text("select 1;")
    (tmp_path / "0001_b.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="version 1 is also used"):
        discover(tmp_path)


def test_a_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "add-alerts.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match=r"add-alerts\.sql: migration files are named"):
        discover(tmp_path)


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        discover(tmp_path / "nowhere")
