"""``loanwatch simulate``: a seeded portfolio as contract-v1 JSONL, with its ground truth.

The events come from :class:`detectors.simulation.Simulation` in event-time order; the truth
(who goes bad, and when) goes to a CSV beside them (``streams.truth``). Sending to Kafka
reuses ``loanwatch produce`` on the written file, so the file is always there to replay or
backtest the very events that were sent.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> report = write_simulation(Simulation(borrowers=20, seed=1), folder / "e.jsonl",
...                           folder / "truth.csv")
>>> report.borrowers, report.events == len((folder / "e.jsonl").read_text().splitlines())
(20, True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from detectors.events import event_to_dict
from detectors.simulation import Simulation
from streams.truth import write_truth

__all__ = ["SimulationReport", "write_simulation"]


@dataclass(frozen=True)
class SimulationReport:
    """What a simulation wrote.

    >>> SimulationReport(10, 160, 3).bad
    3
    """

    borrowers: int
    events: int
    bad: int


def write_simulation(
    sim: Simulation, events_path: Path, truth_path: Path, *, show_progress: bool = False
) -> SimulationReport:
    """Write ``sim``'s events to ``events_path`` (JSONL) and its truth to ``truth_path``."""
    events_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    outcomes = sim.outcomes
    written = 0
    with (
        events_path.open("w", encoding="utf-8") as out,
        tqdm(desc="simulate", unit="event", disable=not show_progress) as bar,
    ):
        for event in sim.events():
            out.write(json.dumps(event_to_dict(event)) + "\n")
            written += 1
            if not written % 4096:
                bar.update(4096)
        bar.update(written % 4096)
    write_truth(outcomes.values(), truth_path)
    bad = sum(o.goes_bad for o in outcomes.values())
    return SimulationReport(len(outcomes), written, bad)
