"""Ground truth beside simulated events: ``truth.csv`` (borrower, archetype, goes bad, when).

>>> import tempfile
>>> from datetime import UTC, datetime
>>> from detectors.simulation import Outcome
>>> path = Path(tempfile.mkdtemp()) / "truth.csv"
>>> rows = [Outcome("b1", "steady", None), Outcome("b2", "shock", datetime(2024, 5, 3, tzinfo=UTC))]
>>> write_truth(rows, path)
2
>>> print(path.read_text().splitlines()[2])
b2,shock,true,2024-05-03T00:00:00+00:00
>>> read_truth(path)["b2"] == rows[1]
True
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from detectors.simulation import Outcome

__all__ = ["TruthError", "read_truth", "write_truth"]

COLUMNS = ("borrower_id", "archetype", "goes_bad", "bad_at")


class TruthError(ValueError):
    """A truth file that cannot be read.

    >>> str(TruthError("x"))
    'x'
    """


def write_truth(outcomes: Iterable[Outcome], path: Path) -> int:
    """Write one row per borrower; returns the number of rows."""
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for o in outcomes:
            bad_at = o.bad_at.isoformat() if o.bad_at else ""
            writer.writerow((o.borrower_id, o.archetype, str(o.goes_bad).lower(), bad_at))
            rows += 1
    return rows


def read_truth(path: Path) -> dict[str, Outcome]:
    """Outcomes by borrower id, from a file written by :func:`write_truth`."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise TruthError(f"{path}: expected the columns {', '.join(COLUMNS)}")
            return {row["borrower_id"]: _outcome(row) for row in reader}
    except TruthError:
        raise
    except (OSError, ValueError) as error:
        raise TruthError(f"cannot read {path}: {error}") from None


def _outcome(row: dict[str, str]) -> Outcome:
    bad_at = datetime.fromisoformat(row["bad_at"]) if row["bad_at"] else None
    return Outcome(row["borrower_id"], row["archetype"], bad_at)
