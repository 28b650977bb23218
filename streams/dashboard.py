"""The demo's live terminal summary, read from a worker's ``/metrics`` samples.

``Snapshot.from_samples`` turns parsed Prometheus samples (name -> [(labels, value)], as
``prometheus_client.parser`` gives them) into the few figures a person watches; ``render``
prints two snapshots' difference as a handful of lines.

>>> samples = {
...     "loanwatch_events_total": [({"event_type": "repayment", "outcome": "processed"}, 90.0),
...                                ({"event_type": "repayment", "outcome": "dead_letter"}, 1.0)],
...     "loanwatch_tier_transitions_total": [({"from_tier": "none", "to_tier": "A"}, 5.0),
...                                          ({"from_tier": "A", "to_tier": "D"}, 2.0)],
...     "loanwatch_alerts_total": [({"queue": "collections.immediate", "reason": "S_DPD_30"}, 2.0)],
... }
>>> snap = Snapshot.from_samples(samples, at=10.0)
>>> snap.events, snap.tiers
(91, {'A': 3, 'B': 0, 'C': 0, 'D': 2})
>>> lines = render(snap, Snapshot(at=9.0), total=100, producer="sending", elapsed=12.0)
>>> print(lines.splitlines()[0])
events   91 of 100 processed   91 events/s   producer sending   12 s
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Samples", "Snapshot", "render"]

Samples = Mapping[str, list[tuple[dict[str, str], float]]]
_LATENCY = "loanwatch_ingest_to_output_seconds"


@dataclass(frozen=True)
class Snapshot:
    """Counters of one scrape: events, tiers, alerts by queue, latency histogram.

    >>> Snapshot().tiers
    {'A': 0, 'B': 0, 'C': 0, 'D': 0}
    """

    at: float = 0.0  # monotonic seconds of the scrape
    events: int = 0  # every input event handled (processed, duplicate or dead letter)
    dead_letters: int = 0
    tiers: dict[str, int] = field(default_factory=lambda: dict.fromkeys("ABCD", 0))
    alerts: dict[str, int] = field(default_factory=dict)
    latency_buckets: tuple[tuple[float, float], ...] = ()  # (upper bound, cumulative count)
    latency_sum: float = 0.0
    latency_count: float = 0.0

    @classmethod
    def from_samples(cls, samples: Samples, at: float) -> Snapshot:
        """Read one scrape; a missing metric counts as zero."""
        events = dead = 0.0
        for labels, value in samples.get("loanwatch_events_total", []):
            events += value
            dead += value if labels.get("outcome") == "dead_letter" else 0
        tiers = dict.fromkeys("ABCD", 0.0)
        for labels, value in samples.get("loanwatch_tier_transitions_total", []):
            if labels.get("to_tier") in tiers:
                tiers[labels["to_tier"]] += value
            if labels.get("from_tier") in tiers:
                tiers[labels["from_tier"]] -= value
        alerts: dict[str, int] = {}
        for labels, value in samples.get("loanwatch_alerts_total", []):
            queue = labels.get("queue", "?")
            alerts[queue] = alerts.get(queue, 0) + int(value)
        buckets = sorted(
            (float(labels["le"]), value)
            for labels, value in samples.get(f"{_LATENCY}_bucket", [])
            if "le" in labels
        )
        return cls(
            at, int(events), int(dead), {t: int(n) for t, n in tiers.items()},
            dict(sorted(alerts.items())), tuple(buckets),
            sum(v for _, v in samples.get(f"{_LATENCY}_sum", [])),
            sum(v for _, v in samples.get(f"{_LATENCY}_count", [])),
        )  # fmt: skip

    def latency_quantile(self, q: float) -> float | None:
        """Upper bound of the histogram bucket holding quantile ``q`` (None: no data).

        >>> Snapshot(latency_buckets=((0.1, 5.0), (1.0, 9.0), (float("inf"), 10.0)),
        ...          latency_count=10.0).latency_quantile(0.5)
        0.1
        """
        if not self.latency_count:
            return None
        for bound, cumulative in self.latency_buckets:
            if cumulative >= q * self.latency_count:
                return bound
        return None


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return "> 30 s" if value == float("inf") else f"≤ {value:g} s"


def render(
    now: Snapshot, before: Snapshot, *, total: int, producer: str, elapsed: float
) -> str:
    """The summary lines: progress and rate, tiers, alerts by queue, latency."""
    span = max(1e-9, now.at - before.at)
    rate = (now.events - before.events) / span
    window = now.latency_count - before.latency_count
    recent = (now.latency_sum - before.latency_sum) / window if window > 0 else None
    tiers = "   ".join(f"{tier} {count:,}" for tier, count in now.tiers.items())
    alerts = "   ".join(f"{queue} {count:,}" for queue, count in now.alerts.items()) or "-"
    return "\n".join([
        f"events   {now.events:,} of {total:,} processed   {rate:,.0f} events/s   "
        f"producer {producer}   {elapsed:.0f} s",
        f"tiers    {tiers}",
        f"alerts   {alerts}",
        f"latency  Kafka append to outputs written: p50 {_seconds(now.latency_quantile(0.5))}, "
        f"p95 {_seconds(now.latency_quantile(0.95))}, recent mean "
        f"{'-' if recent is None else f'{recent:.2f} s'}"
        + (f"   dead letters {now.dead_letters:,}" if now.dead_letters else ""),
    ])  # fmt: skip
