"""loanwatch's Kafka topics: names, partitions, keys and settings, and their creation.

Every name carries ``LOANWATCH_TOPIC_PREFIX`` (default ``loanwatch.``). ``docs/topics.md``
documents each topic's key and message format.

>>> from detectors.policy import load_policy
>>> from streams.settings import Settings
>>> plan = TopicPlan(Settings(topic_partitions=4), load_policy())
>>> plan.inputs["repayment"].name, plan.inputs["repayment"].partitions
('loanwatch.events.repayment', 4)
>>> plan.alert_topic("collections.immediate")
'loanwatch.alerts.collections.immediate'
>>> plan.model_outcomes.partitions, plan.model_snapshots.config["cleanup.policy"]
(1, 'compact')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from detectors.policy import Policy
from streams.kafka_security import kafka_python_kwargs
from streams.settings import Settings

EVENT_TYPES = ("repayment", "new_borrowing", "contact_status")
# Input topic short names per event type (the contract's event_type values).
INPUT_NAMES = {"repayment": "repayment", "new_borrowing": "borrowing", "contact_status": "contact"}

# The largest model checkpoint the snapshot topic takes (its max.message.bytes).
SNAPSHOT_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic to create: name, partitions and topic-level configuration.

    >>> TopicSpec("t", 3).new_topic().num_partitions
    3
    """

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)

    def new_topic(self, replication: int = 1) -> NewTopic:
        return NewTopic(self.name, self.partitions, replication, topic_configs=self.config)


class TopicPlan:
    """Every topic loanwatch reads or writes, derived from the settings and the policy."""

    def __init__(self, settings: Settings, policy: Policy) -> None:
        n = settings.topic_partitions
        name = settings.topic
        self.inputs = {
            event_type: TopicSpec(name(f"events.{short}"), n)
            for event_type, short in INPUT_NAMES.items()
        }
        self.dead_letters = {
            event_type: TopicSpec(name(f"dead-letters.{short}"), n)
            for event_type, short in INPUT_NAMES.items()
        }
        self.tier_changes = TopicSpec(name("tier-changes"), n)
        self.queues = sorted({a.queue for actions in policy.treatments.values() for a in actions})
        self.alerts = {queue: TopicSpec(name(f"alerts.{queue}"), n) for queue in self.queues}
        # Matured outcomes meet in one partition so one trainer learns each exactly once.
        self.model_outcomes = TopicSpec(name("model.outcomes"), 1)
        snapshot_config = {"cleanup.policy": "compact",
                           "max.message.bytes": str(SNAPSHOT_MAX_BYTES)}  # fmt: skip
        self.model_snapshots = TopicSpec(name("model.snapshots"), 1, snapshot_config)
        # The state table's changelog (named by Faust after the app id, not the prefix),
        # created with the rest: a worker that starts before any event would otherwise meet
        # a missing changelog topic on its first table write.
        self.state_changelog = TopicSpec(f"{settings.app_id}-borrowers-changelog", n,
                                         {"cleanup.policy": "compact"})  # fmt: skip
        self.heartbeat = TopicSpec(name("heartbeat"), 1)
        self.heartbeat_acks = TopicSpec(name("heartbeat.ack"), 1)

    def alert_topic(self, queue: str) -> str:
        return self.alerts[queue].name

    def input_topic(self, event_type: str) -> str:
        return self.inputs[event_type].name

    def all(self) -> list[TopicSpec]:
        return [
            *self.inputs.values(), *self.dead_letters.values(), self.tier_changes,
            *self.alerts.values(), self.model_outcomes, self.model_snapshots,
            self.state_changelog, self.heartbeat, self.heartbeat_acks,
        ]  # fmt: skip


def create_topics(bootstrap: str, specs: Iterable[TopicSpec]) -> tuple[list[str], list[str]]:
    """Create the topics that do not exist yet; return (created, already there)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="loanwatch-admin", **kafka_python_kwargs()
    )
    try:
        existing = set(admin.list_topics())
        wanted = list(specs)
        missing = [spec for spec in wanted if spec.name not in existing]
        created: list[str] = []
        for spec in missing:
            try:
                admin.create_topics([spec.new_topic()])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass  # another process created it between our list and create
        return created, [spec.name for spec in wanted if spec.name not in created]
    finally:
        admin.close()


def delete_topics_containing(bootstrap: str, marker: str) -> list[str]:
    """Delete every topic whose name contains ``marker`` (a run id); return their names.

    Benchmarks, the demo and the tests give each run a namespace that carries its id; this
    removes inputs, outputs and changelogs of that run in one call.
    """
    if not marker:
        raise ValueError("an empty marker would delete every topic")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **kafka_python_kwargs())
    try:
        mine = [name for name in admin.list_topics() if marker in name]
        if mine:
            admin.delete_topics(mine)
        return mine
    finally:
        admin.close()


def records_to_end(bootstrap: str, topic: str, settings: Settings | None = None) -> list[Any]:
    """Every record of ``topic`` from its beginning to its end as of now (no consumer group).

    Tools and tests read output topics and changelogs this way; ``settings`` gives the
    client's security settings (the process's own by default).
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             **kafka_python_kwargs(settings))  # fmt: skip
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        records: list[Any] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000, max_records=10_000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()
