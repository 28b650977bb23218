"""``loanwatch replay``: run a JSONL file of events through the detectors core, in process.

No Kafka and no database: the same ``Monitor`` as the agents, fed in file order, with the
per-borrower states held in a dict. Bad lines are rejected with their reason and never stop
the run; only an unreadable input (or output folder) fails it, with :class:`ReplayError`.

>>> import json, tempfile
>>> from pathlib import Path
>>> from detectors.policy import load_policy
>>> folder = Path(tempfile.mkdtemp())
>>> line = json.dumps({"event_id": "e1", "event_type": "contact_status", "borrower_id": "b1",
...                    "occurred_at": "2024-03-01T09:00:00Z", "channel": "sms",
...                    "status": "reachable"})
>>> _ = (folder / "in.jsonl").write_text(line + "\\n{oops\\n")
>>> summary = replay_file(folder / "in.jsonl", folder / "out", load_policy())
>>> summary["events"], summary["rejected"], summary["tier_counts"]
(1, 1, {'A': 1, 'B': 0, 'C': 0, 'D': 0})
>>> json.loads((folder / "out" / "rejected.jsonl").read_text())["line"]
2
"""

from __future__ import annotations

import gc
import json
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any, Protocol

from tqdm import tqdm

from detectors.decision import Decision
from detectors.engine import Monitor
from detectors.events import Event, EventError, parse_event
from detectors.policy import Policy
from detectors.state import BorrowerState
from streams.messages import json_bytes

__all__ = ["Observer", "Replay", "ReplayError", "replay_file"]

_OUTPUT_NAMES = ("tier_changes.jsonl", "alerts.jsonl", "rejected.jsonl")
_PROGRESS_EVERY = 8192  # lines between progress-bar updates: tqdm per line would cost more


class ReplayError(RuntimeError):
    """The input or the output folder cannot be used at all.

    >>> str(ReplayError("cannot read x"))
    'cannot read x'
    """


class Observer(Protocol):
    """Sees every parsed event with its decision (``loanwatch backtest`` collects its figures so).

    >>> import io
    >>> from detectors.policy import load_policy
    >>> tiers: list[str] = []
    >>> replay = Replay(Monitor(load_policy()), io.BytesIO(), io.BytesIO(), io.BytesIO(),
    ...                 observer=lambda event, decision: tiers.append(decision.tier))
    >>> replay.feed(1, b'{"event_id": "e1", "event_type": "contact_status", "borrower_id": "b1",'
    ...             b' "occurred_at": "2024-03-01T09:00:00Z", "channel": "sms",'
    ...             b' "status": "reachable"}')
    >>> tiers
    ['A']
    """

    def __call__(self, event: Event, decision: Decision, /) -> None:
        """Called once per accepted event, duplicates included, after the decision."""


class Replay:
    """Feeds lines to a Monitor and writes tier changes, alerts and rejects as JSON lines
    (compact UTF-8 from orjson, to binary files: the standard library's encoder took about
    6% of a compiled replay).

    >>> import io
    >>> from detectors.policy import load_policy
    >>> sinks = [io.BytesIO() for _ in range(3)]
    >>> replay = Replay(Monitor(load_policy()), *sinks)
    >>> replay.feed(1, b"not json")
    >>> replay.summary()["rejected"]
    1
    """

    def __init__(
        self, monitor: Monitor, tier_changes: IO[bytes], alerts: IO[bytes], rejected: IO[bytes],
        *, observer: Observer | None = None,
    ) -> None:  # fmt: skip
        self.monitor = monitor
        self.observer = observer
        self.out_changes, self.out_alerts, self.out_rejected = tier_changes, alerts, rejected
        self.states: dict[str, BorrowerState] = {}
        self.events = self.rejected = self.duplicates = self.tier_changes = 0
        self.alerts_by_queue: Counter[str] = Counter()
        self.alerts_by_reason: Counter[str] = Counter()

    def feed(self, line_number: int, line: bytes) -> None:
        """Process one input line (blank lines are skipped)."""
        if not line.strip():
            return
        try:
            event = parse_event(line)
        except EventError as error:
            self.rejected += 1
            original = line.decode("utf-8", "replace").rstrip("\r\n")
            record = {"line": line_number, "reason": str(error), "original": original}
            self.out_rejected.write(json_bytes(record) + b"\n")
            return
        states = self.states
        state, decision = self.monitor.process(states.get(event.borrower_id), event)
        states[event.borrower_id] = state
        self.events += 1
        if self.observer is not None:
            self.observer(event, decision)
        if decision.duplicate:
            self.duplicates += 1
            return
        change = decision.tier_change
        if change is not None:
            self.tier_changes += 1
            self.out_changes.write(json_bytes(change.to_dict()) + b"\n")
        for alert in decision.alerts:
            self.alerts_by_queue[alert.queue] += 1
            self.alerts_by_reason.update(alert.reasons)
            self.out_alerts.write(json_bytes(alert.to_dict()) + b"\n")

    def summary(self) -> dict[str, Any]:
        """Counts so far; ``tier_counts`` is the current (final) tier of every borrower."""
        tiers = Counter(state.tier for state in self.states.values())
        return {
            "policy_version": self.monitor.policy.version,
            "model_version": self.monitor.scorer.version,
            "events": self.events,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "borrowers": len(self.states),
            "tier_changes": self.tier_changes,
            "tier_counts": {tier: tiers.get(tier, 0) for tier in "ABCD"},
            "alerts": sum(self.alerts_by_queue.values()),
            "alerts_by_queue": dict(sorted(self.alerts_by_queue.items())),
            "alerts_by_reason": dict(sorted(self.alerts_by_reason.items())),
        }


def replay_file(
    events: Path, out_dir: Path, policy: Policy, *, progress: bool | None = None,
    observer: Observer | None = None, desc: str = "replay", monitor: Monitor | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Replay ``events`` into ``out_dir``; returns the summary, also written as summary.json.

    ``progress`` None shows a bar only when stderr is a terminal; ``observer`` sees every
    event with its decision; ``desc`` labels the bar; ``monitor`` replaces the default
    ``Monitor(policy)`` (the benchmark scores with the models, as a worker does).
    """
    try:
        source = events.open("rb")
        size = events.stat().st_size
    except OSError as error:
        raise ReplayError(f"cannot read {events}: {error.strerror or error}") from None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        outputs = [(out_dir / n).open("wb") for n in _OUTPUT_NAMES]
    except OSError as error:
        source.close()
        raise ReplayError(f"cannot write to {out_dir}: {error.strerror or error}") from None
    show = sys.stderr.isatty() if progress is None else progress
    # Many small long-lived state objects and no reference cycles: the cyclic collector
    # would rescan them over and over for nothing (about 10% of the run). Restored afterwards.
    collecting = gc.isenabled()
    gc.disable()
    bar = tqdm(total=size, unit="B", unit_scale=True, desc=desc, disable=not show)
    changes, alerts, rejected = outputs
    replay = Replay(monitor or Monitor(policy), changes, alerts, rejected, observer=observer)
    try:
        done = 0
        for number, line in enumerate(source, 1):
            replay.feed(number, line)
            done += len(line)
            if not number % _PROGRESS_EVERY:
                bar.update(done)
                done = 0
        bar.update(done)
    except OSError as error:
        raise ReplayError(f"cannot read {events}: {error.strerror or error}") from None
    finally:
        if collecting:
            gc.enable()
        bar.close()
        source.close()
        for output in outputs:
            output.close()
    summary = replay.summary()
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary

