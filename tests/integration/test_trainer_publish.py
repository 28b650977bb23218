"""The trainer's checkpoints on the real broker and database: published with their row, and
one too large for the snapshot topic reported and left out while learning goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from detectors.models.checkpoint import load, read_header
from detectors.policy import load_policy
from streams import metrics, modelsync
from streams.migrate import migrate
from streams.modelsync import trainer_for
from streams.settings import Settings
from streams.topics import SNAPSHOT_MAX_BYTES, TopicPlan, create_topics, records_to_end
from tests.conftest import Stack

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_checkpoint_too_large_for_the_topic_is_left_out_and_reported(
    stack: Stack, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(fresh_database, REPO_ROOT / "sql")
    policy = load_policy()
    settings = Settings(
        kafka_bootstrap=stack.kafka_bootstrap, database_url=fresh_database,
        topic_prefix=f"{stack.topic_prefix}trainer.", app_id="lwtest-trainer",
    )  # fmt: skip
    plan = TopicPlan(settings, policy)
    create_topics(stack.kafka_bootstrap, [plan.model_snapshots])
    trainer = trainer_for(settings, policy)

    async def publish_twice() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap,
                                    max_request_size=SNAPSHOT_MAX_BYTES)  # fmt: skip
        await producer.start()
        try:
            trainer.last_offset = 4
            await trainer.publish(producer)
            monkeypatch.setattr(modelsync, "SNAPSHOT_MAX_BYTES", 4096)  # smaller than any
            trainer.last_offset = 9
            await trainer.publish(producer)
        finally:
            await producer.stop()
            await trainer.sink.close()

    asyncio.run(publish_twice())

    [published] = records_to_end(stack.kafka_bootstrap, plan.model_snapshots.name)
    assert read_header(published.value or b"")["outcomes_offset"] == 4
    assert load(published.value or b"").version == trainer.hub.version
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("select count(*) from model_snapshots").fetchone() == (1,)
    assert metrics.MODEL_CHECKPOINT_BYTES._value.get() > 4096  # the one left out
    assert trainer.checkpointed_offset == 9  # the next is tried snapshot_every outcomes on
