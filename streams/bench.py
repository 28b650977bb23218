"""``loanwatch bench core``: in-process throughput of the detectors core, measured not tested.

It simulates events (outside the timing), writes them to a temporary JSONL file, then times
``replay_file`` on it: parsing, the engine, and writing outputs, with no Kafka or database.

>>> result = bench_core(events=300, seed=3)
>>> result["events"], result["events_per_second"] > 0
(300, True)
"""

from __future__ import annotations

import json
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

from detectors.engine import Monitor
from detectors.evaluation import default_hub
from detectors.events import event_to_dict
from detectors.policy import Policy, load_policy
from detectors.simulation import Simulation
from streams.replay import replay_file

__all__ = ["bench_core", "worker_monitor", "write_events"]

_EVENTS_PER_BORROWER = 16  # about what the simulator yields per borrower over 12 months


def write_events(path: Path, events: int, seed: int) -> int:
    """Write ``events`` simulated events (fewer if the simulation runs out) as JSONL.

    >>> import tempfile
    >>> write_events(Path(tempfile.mkdtemp()) / "e.jsonl", 10, seed=1)
    10
    """
    borrowers = max(1, -(-events // _EVENTS_PER_BORROWER) + 1)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for event in islice(Simulation(borrowers=borrowers, seed=seed).events(), events):
            out.write(json.dumps(event_to_dict(event)) + "\n")
            written += 1
    return written


def worker_monitor(policy: Policy) -> Monitor:
    """The engine as a worker builds it: online-model scoring, model inputs encoded for
    learning (``bench/instructions.sh`` counts its instructions per event).

    >>> from detectors.policy import load_policy
    >>> worker_monitor(load_policy()).encoder is not None
    True
    """
    hub = default_hub(policy)
    return Monitor(policy, scorer=hub, anomaly=hub, encoder=hub.encoder)


def bench_core(events: int, seed: int, policy: Policy | None = None,
               models: bool = True) -> dict[str, Any]:  # fmt: skip
    """Generate, then time an in-process replay; returns events/s and the replay summary.

    With ``models`` the engine scores with the online models and encodes their inputs, as a
    worker does; without, with the policy's scorecard alone, as ``loanwatch replay`` does.
    """
    policy = policy or load_policy()
    monitor = worker_monitor(policy) if models else None
    with tempfile.TemporaryDirectory(prefix="loanwatch-bench-") as tmp:
        source = Path(tmp) / "events.jsonl"
        count = write_events(source, events, seed)
        started = time.perf_counter()
        summary = replay_file(source, Path(tmp) / "out", policy, progress=False, monitor=monitor)
        seconds = time.perf_counter() - started
    return {
        "benchmark": "core",
        "models": models,
        "events": count,
        "seed": seed,
        "seconds": round(seconds, 3),
        "events_per_second": round(count / seconds, 1),
        "summary": summary,
    }
