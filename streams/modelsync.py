"""Models across workers: one trainer learns, every worker scores with the latest snapshot.

* Each worker's decisions carry matured outcomes; the worker sends them to the
  single-partition ``model.outcomes`` topic (:func:`outcome_message`).
* The **trainer** is whichever worker the consumer group ``<app_id>-trainer`` gives that
  partition. It learns every outcome into its :class:`ModelHub` and, every
  ``LOANWATCH_MODEL_SNAPSHOT_EVERY`` outcomes, publishes a checkpoint to the compacted
  ``model.snapshots`` topic (and the ``model_snapshots`` table). The checkpoint names the last
  outcome offset it contains; a trainer that takes over resumes right after it, so each
  outcome is learned exactly once even across crashes.
* Every worker follows ``model.snapshots`` (no consumer group: all of them read all of it)
  and swaps the new hub in between batches. Scores never learn, so a worker's decisions are
  a function of its events and the snapshot it runs, which every decision names
  (``model_version``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from detectors.evaluation import default_hub
from detectors.models import checkpoint
from detectors.models.hub import ModelHub
from detectors.models.outcomes import Outcome, Snapshot
from detectors.policy import Policy
from streams import metrics
from streams.history import HistorySink
from streams.kafka_security import aiokafka_kwargs
from streams.messages import json_bytes
from streams.settings import Settings
from streams.topics import SNAPSHOT_MAX_BYTES, TopicPlan

log = structlog.get_logger(__name__)
SNAPSHOT_KEY = b"hub"
SNAPSHOT_FRAMING_BYTES = 1024  # the record's own bytes beside its value: key, headers, batch


def outcome_message(borrower_id: str, outcome: Outcome) -> bytes:
    """A matured outcome as JSON for the training topic: the non-zero features' ``indices``
    and ``values``, the latter in the JSON the snapshot already made for its borrower's state.

    >>> from detectors.models.outcomes import Snapshot
    >>> outcome_message("b1", Outcome(Snapshot(10.0, 2, (1,), (2.0,)), 1, 20.0))
    b'{"borrower_id":"b1","taken_at":10.0,"matured_at":20.0,"label":1,"size":2,"indices":[1],"values":[2.0]}'
    """
    snapshot = outcome.snapshot
    return json_bytes({
        "borrower_id": borrower_id, "taken_at": snapshot.taken_at,
        "matured_at": outcome.matured_at, "label": outcome.label, "size": snapshot.size,
        "indices": snapshot.indices, "values": orjson.Fragment(snapshot.values_json),
    })  # fmt: skip


def parse_outcome(data: bytes) -> Outcome:
    """Read :func:`outcome_message` bytes back, and the older form the topic may still hold,
    the features as ``"features": [[index, value], ...]`` (written until state format 3).

    >>> o = parse_outcome(outcome_message("b1", Outcome(Snapshot.of(1.0, (3.0, 0.0)), 0, 2.0)))
    >>> o.features, o.label
    ((3.0, 0.0), 0)
    >>> parse_outcome(b'{"taken_at":1.0,"matured_at":2.0,"label":1,"size":2,'
    ...               b'"features":[[1,2.0]]}').features
    (0.0, 2.0)
    """
    body = json.loads(data)
    taken_at, size = body["taken_at"], body["size"]
    if "features" in body:
        snapshot = Snapshot.from_pairs(taken_at, size, body["features"])
    else:
        snapshot = Snapshot.from_sparse(taken_at, size, body["indices"], body["values"])
    return Outcome(snapshot, body["label"], body["matured_at"])


class LiveModels:
    """The scoring side of a worker: the engine's scorer and anomaly scorer, swappable."""

    def __init__(self, policy: Policy) -> None:
        self.hub = default_hub(policy)
        self.snapshot_id: str | None = None

    @property
    def version(self) -> str:
        return self.hub.version

    def score(self, features: list[float]) -> float:
        return self.hub.score(features)

    def score_one(self, features: list[float]) -> float:
        return self.hub.score_one(features)

    def swap(self, data: bytes) -> None:
        """Load a published checkpoint and score with it from now on."""
        hub = checkpoint.load(data, expected_features=self.hub.encoder.names)
        header = checkpoint.read_header(data)
        self.hub, self.snapshot_id = hub, header.get("snapshot_id")
        report_model_health(hub)
        log.info("model snapshot in use", snapshot=self.snapshot_id, version=hub.version)


def report_model_health(hub: ModelHub) -> None:
    """Model figures as gauges."""
    figures = hub.figures()
    for name, model in figures["models"].items():
        if model["auc"] is not None:
            metrics.MODEL_AUC.labels(model=name).set(model["auc"])
    drift = figures["drift"]
    if drift["psi"] is not None:
        metrics.MODEL_PSI.set(drift["psi"])
    metrics.MODEL_LOSS_DRIFTS.set(drift["loss_drifts"])
    metrics.MODEL_BLEND_WEIGHT.set(figures["blend_weight"])
    metrics.MODEL_OUTCOMES.set(figures["matured_outcomes"])


async def read_latest_snapshot(bootstrap: str, topic: str) -> bytes | None:
    """The newest checkpoint on the snapshot topic, or None when there is none."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                **aiokafka_kwargs())  # fmt: skip
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        if end == 0:
            return None
        consumer.seek(partition, end - 1)
        batch = await consumer.getmany(partition, timeout_ms=10_000)
        records = batch.get(partition, [])
        return records[-1].value if records else None
    finally:
        await consumer.stop()


async def follow_snapshots(bootstrap: str, topic: str, live: LiveModels) -> None:
    """Swap every newly published snapshot into ``live`` (runs for the worker's lifetime)."""
    latest = await read_latest_snapshot(bootstrap, topic)
    if latest is not None:
        live.swap(latest)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                **aiokafka_kwargs())  # fmt: skip
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        async for record in consumer:
            if record.value:
                live.swap(record.value)
    finally:
        await consumer.stop()


class Trainer:
    """Learns matured outcomes exactly once and publishes checkpoints.

    Learning is the slow part of the models (milliseconds an outcome for the tree and the
    anomaly forest), so the trainer hands the event loop back every ``YIELD_EVERY``
    outcomes; ``loanwatch trainer`` runs it in a process of its own, off the workers' path.
    """

    YIELD_EVERY = 32

    def __init__(
        self, policy: Policy, bootstrap: str, group_id: str, outcomes_topic: str,
        snapshots_topic: str, sink: HistorySink, snapshot_every: int,
    ) -> None:  # fmt: skip
        self.policy = policy
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.outcomes_topic = outcomes_topic
        self.snapshots_topic = snapshots_topic
        self.sink = sink
        self.snapshot_every = snapshot_every
        self.hub = default_hub(policy, hold_labels=True)
        self.last_offset = -1  # offset of the last outcome taken in (held ones are in the hub)
        self.checkpointed_offset = -1  # the last outcome in the latest checkpoint made
        self.consumer: AIOKafkaConsumer | None = None

    async def run(self) -> None:
        """Consume outcomes for as long as this worker holds the training partition."""
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", **aiokafka_kwargs(),
        )  # fmt: skip
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                    max_request_size=SNAPSHOT_MAX_BYTES,
                                    **aiokafka_kwargs())  # fmt: skip
        await self.consumer.start()
        await producer.start()
        self.consumer.subscribe([self.outcomes_topic], listener=_Resume(self))
        try:
            while True:
                batches = await self.consumer.getmany(timeout_ms=1000, max_records=5000)
                for records in batches.values():
                    for number, record in enumerate(records, 1):
                        self.hub.learn(parse_outcome(record.value))
                        self.last_offset = record.offset
                        if number % self.YIELD_EVERY == 0:
                            await asyncio.sleep(0)
                if self.last_offset - self.checkpointed_offset >= self.snapshot_every:
                    await self.publish(producer)
        finally:
            await producer.stop()
            await self.consumer.stop()

    async def resume(self, partition: TopicPartition) -> None:
        """Start from the newest checkpoint and the outcome right after it."""
        assert self.consumer is not None
        data = await read_latest_snapshot(self.bootstrap, self.snapshots_topic)
        if data is None:
            self.hub, self.last_offset = default_hub(self.policy, hold_labels=True), -1
        else:
            self.hub = checkpoint.load(data, expected_features=self.hub.encoder.names)
            self.last_offset = int(checkpoint.read_header(data)["outcomes_offset"])
        self.checkpointed_offset = self.last_offset
        self.consumer.seek(partition, self.last_offset + 1)
        log.info("trainer resumes", outcome_offset=self.last_offset + 1, version=self.hub.version)

    async def publish(self, producer: AIOKafkaProducer) -> None:
        """Publish a checkpoint of everything learned so far; one too large for the snapshot
        topic is reported and left out (learning goes on, and the next is tried after
        another ``snapshot_every`` outcomes), rather than failing the trainer over and over."""
        snapshot_id = f"o{self.last_offset}-{self.hub.version}"
        data = checkpoint.dump(self.hub, outcomes_offset=self.last_offset, snapshot_id=snapshot_id)
        self.checkpointed_offset = self.last_offset
        metrics.MODEL_CHECKPOINT_BYTES.set(len(data))
        report_model_health(self.hub)
        if len(data) > SNAPSHOT_MAX_BYTES - SNAPSHOT_FRAMING_BYTES:
            log.error("model checkpoint too large for the snapshot topic; not published",
                      snapshot=snapshot_id, bytes=len(data), limit=SNAPSHOT_MAX_BYTES)  # fmt: skip
            return
        await producer.send_and_wait(self.snapshots_topic, data, key=SNAPSHOT_KEY)
        header = checkpoint.read_header(data)
        self.sink.add_model_snapshot({**header, "version": snapshot_id}, data)
        await self.sink.flush()
        log.info("model snapshot published", snapshot=snapshot_id, bytes=len(data))


def trainer_for(settings: Settings, policy: Policy) -> Trainer:
    """The trainer of the app ``settings`` name: its consumer group, topics and database.

    >>> from detectors.policy import load_policy
    >>> trainer_for(Settings(app_id="lw"), load_policy()).group_id
    'lw-trainer'
    """
    plan = TopicPlan(settings, policy)
    return Trainer(
        policy, settings.kafka_bootstrap, f"{settings.app_id}-trainer",
        plan.model_outcomes.name, plan.model_snapshots.name,
        HistorySink(settings.database_url), settings.model_snapshot_every,
    )  # fmt: skip


class _Resume(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        for partition in assigned:
            await self.trainer.resume(partition)


async def run_forever(name: str, job: Any) -> None:
    """Run a background coroutine factory, restarting it after an error."""
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job failed; restarting in 5 s", job=name)
            await asyncio.sleep(5)
