"""Prometheus metrics of a worker, served at ``/metrics`` by its web server.

No label carries a borrower id: labels are event types, outcomes, queues, reason codes,
tiers and model names, all bounded sets.

>>> EVENTS.labels(event_type="repayment", outcome="processed").inc()
>>> b"loanwatch_events_total" in exposition()
True
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter as Tally
from collections.abc import Iterable
from functools import cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase

REGISTRY = CollectorRegistry(auto_describe=True)

# Event time can be days behind when history is replayed, hence buckets up to a week.
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400, 604800)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000)

EVENTS = Counter(
    "loanwatch_events_total", "Input events by type and outcome "
    "(processed, duplicate, dead_letter).", ["event_type", "outcome"], registry=REGISTRY,
)  # fmt: skip
DECISION_LAG = Histogram(
    "loanwatch_event_to_decision_seconds", "Event time (occurred_at) to decision.",
    buckets=LAG_BUCKETS, registry=REGISTRY,
)  # fmt: skip
INGEST_TO_OUTPUT = Histogram(
    "loanwatch_ingest_to_output_seconds", "Kafka append time of an input to its outputs "
    "being written (PostgreSQL and Kafka).", buckets=LATENCY_BUCKETS, registry=REGISTRY,
)  # fmt: skip
INPUTS_ACKNOWLEDGED_AT = Gauge(
    "loanwatch_inputs_acknowledged_timestamp_seconds", "When the latest round's inputs were "
    "acknowledged, their outputs written (Unix time).", registry=REGISTRY,
)  # fmt: skip
FIRST_INPUT_TAKEN_AT = Gauge(
    "loanwatch_first_input_taken_timestamp_seconds", "When this worker's first round took "
    "its inputs (Unix time; 0 until then): from start to here is its start-up and recovery.",
    registry=REGISTRY,
)  # fmt: skip
ALERTS = Counter(
    "loanwatch_alerts_total", "Alerts by queue and leading reason code.",
    ["queue", "reason"], registry=REGISTRY,
)  # fmt: skip
TIER_TRANSITIONS = Counter(
    "loanwatch_tier_transitions_total", "Tier changes (from_tier 'none' for a first tier).",
    ["from_tier", "to_tier"], registry=REGISTRY,
)  # fmt: skip
BORROWERS_BY_TIER = Gauge(
    "loanwatch_borrowers_by_tier", "Borrowers per current tier, portfolio-wide (from "
    "PostgreSQL; every worker reports the same figure).", ["tier"], registry=REGISTRY,
)  # fmt: skip
DEAD_LETTERS = Counter(
    "loanwatch_dead_letters_total", "Messages sent to a dead-letter topic, by source topic "
    "kind.", ["source"], registry=REGISTRY,
)  # fmt: skip
REORDER_HELD = Gauge(
    "loanwatch_reorder_held_events", "Events waiting in the reorder buffer for the other "
    "input topics.", registry=REGISTRY,
)  # fmt: skip
REORDER_STALLS = Counter(
    "loanwatch_reorder_stalls_total", "Times an event was released past an input topic "
    "partition that had unread messages but delivered none for LOANWATCH_REORDER_MAX_HOLD_S "
    "(its older events, if any, become late events).", registry=REGISTRY,
)  # fmt: skip
INPUT_REFETCHES = Counter(
    "loanwatch_input_refetches_total", "Input topic partitions read again from the last "
    "admitted offset because their unread messages stopped arriving.", registry=REGISTRY,
)  # fmt: skip
SINK_BATCH_ROWS = Histogram(
    "loanwatch_sink_batch_rows", "Rows written to PostgreSQL per flush.",
    buckets=BATCH_BUCKETS, registry=REGISTRY,
)  # fmt: skip
SINK_FLUSH_SECONDS = Histogram(
    "loanwatch_sink_flush_seconds", "Duration of successful PostgreSQL flushes.",
    buckets=LATENCY_BUCKETS, registry=REGISTRY,
)  # fmt: skip
SINK_FAILURES = Counter(
    "loanwatch_sink_failures_total", "Failed PostgreSQL flush attempts (each is retried).",
    registry=REGISTRY,
)  # fmt: skip
SINK_PENDING_ROWS = Gauge(
    "loanwatch_sink_pending_rows",
    "Rows buffered and not yet written to PostgreSQL, as of the latest flush's start, failure"
    " or end.",
    registry=REGISTRY,
)  # fmt: skip
SINK_LAG = Gauge(
    "loanwatch_sink_lag_seconds", "Age of the oldest row waiting for PostgreSQL.",
    registry=REGISTRY,
)  # fmt: skip
MODEL_AUC = Gauge(
    "loanwatch_model_rolling_auc", "Rolling AUC of each model on matured outcomes.",
    ["model"], registry=REGISTRY,
)  # fmt: skip
MODEL_PSI = Gauge(
    "loanwatch_model_score_psi", "PSI of the score distribution against its reference.",
    registry=REGISTRY,
)  # fmt: skip
MODEL_LOSS_DRIFTS = Gauge(
    "loanwatch_model_loss_drifts", "Changes ADWIN has detected in the champion's loss.",
    registry=REGISTRY,
)  # fmt: skip
MODEL_BLEND_WEIGHT = Gauge(
    "loanwatch_model_blend_weight", "Weight of the model (vs the scorecard) in the score.",
    registry=REGISTRY,
)  # fmt: skip
MODEL_OUTCOMES = Gauge(
    "loanwatch_model_matured_outcomes", "Matured outcomes the scoring model has learned.",
    registry=REGISTRY,
)  # fmt: skip
MODEL_CHECKPOINT_BYTES = Gauge(
    "loanwatch_model_checkpoint_bytes",
    "Size of the trainer's latest model checkpoint (the snapshot topic takes up to 16 MiB).",
    registry=REGISTRY,
)  # fmt: skip
OUTCOMES_PUBLISHED = Counter(
    "loanwatch_outcomes_published_total", "Matured outcomes sent to the training topic.",
    registry=REGISTRY,
)  # fmt: skip
CONSUMER_LAG = Gauge(
    "loanwatch_consumer_lag_messages", "Messages of an input topic not yet committed by the "
    "consumer group, over the partitions this worker holds (sum over workers for the "
    "group's lag).", ["topic"], registry=REGISTRY,
)  # fmt: skip

SUFFIXES = {
    "counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gauge": ("",), "summary": ("", "_sum", "_count", "_created"),
}  # fmt: skip


def exported_names() -> set[str]:
    """Every series name the registry exports, with the suffixes prometheus-client adds
    (``_total`` for counters, ``_bucket``/``_sum``/``_count`` for histograms), including
    labelled metrics that have no sample yet.

    >>> {"loanwatch_events_total", "loanwatch_sink_flush_seconds_bucket",
    ...  "loanwatch_reorder_held_events"} <= exported_names()
    True
    >>> "loanwatch_events" in exported_names()
    False
    """
    return {
        f"{family.name}{suffix}"
        for family in REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


@cache
def labelled(metric: MetricWrapperBase, *values: str) -> Any:
    """``metric.labels(*values)``, looked up once: every label set here is from a bounded
    set, and ``labels`` costs microseconds a call on the per-event path.

    >>> labelled(EVENTS, "contact", "processed") is labelled(EVENTS, "contact", "processed")
    True
    """
    return metric.labels(*values)


def observe_ages(histogram: Histogram, now: float, moments: Iterable[float],
                 unit: float = 1.0) -> None:  # fmt: skip
    """``histogram.observe(max(0, now - moment) / unit)`` for each moment, with one update per
    bucket touched and no value made per moment: a round observes thousands of ages, every
    ``observe`` takes two locks, and sorted moments give each bucket's count by bisection.

    >>> def example() -> Histogram:
    ...     return Histogram("x_seconds", "x", buckets=(1.0, 2.0), registry=CollectorRegistry())
    >>> def samples(h: Histogram) -> list[float]:
    ...     return [s.value for s in h.collect()[0].samples if not s.name.endswith("_created")]
    >>> batched, one_by_one = example(), example()
    >>> observe_ages(batched, 10_000, [9_500, 9_000, 8_300, 1_000, 10_400], unit=1000)
    >>> for age in [0.5, 1.0, 1.7, 9.0, 0.0]:
    ...     one_by_one.observe(age)
    >>> samples(batched) == samples(one_by_one), samples(batched)[:3]
    (True, [3.0, 4.0, 5.0])
    """
    ordered = sorted(moments)
    if not ordered:
        return
    count = len(ordered)
    below = 0  # ages counted in the buckets so far
    for index, bound in enumerate(histogram._upper_bounds):
        # age <= bound exactly when moment >= now - bound (a moment after now is age 0)
        within = count - bisect_left(ordered, now - bound * unit)
        if within > below:
            histogram._buckets[index].inc(within - below)
            below = within
    past = bisect_right(ordered, now)
    histogram._sum.inc((past * now - sum(ordered[:past])) / unit)


class RoundMetrics:
    """A round's counts, kept in plain Python and written to the registry by :meth:`flush`
    (once a round rather than once an event).

    >>> tally = RoundMetrics()
    >>> for _ in range(3):
    ...     tally.inc(EVENTS, "contact", "duplicate")
    >>> tally.inc(EVENTS, "contact", "duplicate", amount=2)
    >>> before = labelled(EVENTS, "contact", "duplicate")._value.get()
    >>> tally.flush(); labelled(EVENTS, "contact", "duplicate")._value.get() - before
    5.0
    """

    def __init__(self) -> None:
        self._counts: Tally[tuple[Any, tuple[str, ...]]] = Tally()

    def inc(self, metric: Counter, *labels: str, amount: int = 1) -> None:
        """Count ``amount`` for ``metric`` with ``labels`` (none for an unlabelled metric)."""
        self._counts[metric, labels] += amount

    def flush(self) -> None:
        """Write what was counted to the registry, and start afresh."""
        for (metric, labels), count in self._counts.items():
            (labelled(metric, *labels) if labels else metric).inc(count)
        self._counts.clear()


def exposition() -> bytes:
    """The registry in Prometheus text format."""
    return generate_latest(REGISTRY)
