"""A worker on a Kafka listener that requires SASL/SCRAM.

A throwaway broker is started by the project's own script (``deploy/local/kafka.sh`` with
``LOANWATCH_KAFKA_SASL_PORT``, in a temporary run directory on free ports, reusing the cached
jars) so the shared local broker stays untouched. The worker gets only the SASL listener's
address: its admin client, Faust consumers and producers, and aiokafka model clients all have
to authenticate, or it never becomes ready and processes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from detectors.policy import load_policy
from streams.bench import write_events
from streams.kafka_security import kafka_python_kwargs
from streams.produce import route
from streams.settings import REPO_ROOT, Settings
from streams.topics import TopicPlan, records_to_end
from streams.worker_process import free_port
from tests.conftest import Stack, WorkerProcess

pytestmark = pytest.mark.integration
USER = "lw-sasl"


@dataclasses.dataclass(frozen=True)
class SaslBroker:
    bootstrap: str  # the SASL_PLAINTEXT listener
    username: str
    password: str

    def settings(self, mechanism: str = "SCRAM-SHA-512", **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "kafka_bootstrap": self.bootstrap, "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": mechanism, "kafka_sasl_username": self.username,
            "kafka_sasl_password": self.password,
        }  # fmt: skip
        return Settings(**{**values, **overrides})


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    run_dir = tmp_path_factory.mktemp("sasl-kafka")
    password = uuid.uuid4().hex
    env = {
        **os.environ,
        "LOANWATCH_RUN_DIR": str(run_dir),
        "LOANWATCH_KAFKA_PORT": str(free_port()),
        "LOANWATCH_KAFKA_CONTROLLER_PORT": str(free_port()),
        "LOANWATCH_KAFKA_SASL_PORT": str(sasl_port := free_port()),
        "LOANWATCH_KAFKA_HEAP": "384m",
        "LOANWATCH_KAFKA_SASL_USERNAME": USER,
        "LOANWATCH_KAFKA_SASL_PASSWORD": password,
    }
    script = str(REPO_ROOT / "deploy/local/kafka.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True)
    try:
        assert started.returncode == 0, f"SASL broker did not start:\n{started.stderr}"
        yield SaslBroker(f"127.0.0.1:{sasl_port}", USER, password)
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, check=False)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_each_mechanism_authenticates_and_a_wrong_password_is_refused(
    sasl_broker: SaslBroker, mechanism: str
) -> None:
    admin = KafkaAdminClient(bootstrap_servers=sasl_broker.bootstrap,
                             **kafka_python_kwargs(sasl_broker.settings(mechanism)))  # fmt: skip
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()
    wrong = sasl_broker.settings(mechanism, kafka_sasl_password="not-the-password")
    with pytest.raises(KafkaError):
        KafkaAdminClient(
            bootstrap_servers=sasl_broker.bootstrap, request_timeout_ms=3000,
            api_version_auto_timeout_ms=3000, **kafka_python_kwargs(wrong),
        )  # fmt: skip


def http_status(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def wait_for(
    check: Callable[[], bool], timeout_s: float, what: str, log: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout_s:.0f} s\n{log()}")
        time.sleep(0.5)


def events_counted(port: int, outcome: str = "") -> float:
    """The worker's loanwatch_events_total, all outcomes or one."""
    status, body = http_status(port, "/metrics")
    if status != 200:
        return -1
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("loanwatch_events_total{") and f'outcome="{outcome}' in line
    )


def test_a_worker_on_a_scram_listener_processes_events(
    sasl_broker: SaslBroker, pipeline_stack: Callable[[str], Stack], tmp_path: Path
) -> None:
    stack = dataclasses.replace(pipeline_stack("sasl"), kafka_bootstrap=sasl_broker.bootstrap)
    password_file = tmp_path / "kafka-password"
    password_file.write_text(sasl_broker.password + "\n")  # as a mounted secret might end
    worker = WorkerProcess(
        stack, tmp_path, "sasl-worker",
        LOANWATCH_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        LOANWATCH_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        LOANWATCH_KAFKA_SASL_USERNAME=sasl_broker.username,
        LOANWATCH_KAFKA_SASL_PASSWORD_FILE=str(password_file),
        LOANWATCH_TOPIC_PARTITIONS="2",
    ).start()  # fmt: skip
    try:
        wait_for(lambda: http_status(worker.web_port, "/ready")[0] == 200, 120,
                 "worker ready on the SASL listener", worker.log_tail)  # fmt: skip

        settings = sasl_broker.settings(topic_prefix=stack.topic_prefix, topic_partitions=2)
        plan = TopicPlan(settings, load_policy())
        events = tmp_path / "events.jsonl"
        write_events(events, 200, seed=8)
        producer = KafkaProducer(bootstrap_servers=sasl_broker.bootstrap, acks="all",
                                 **kafka_python_kwargs(settings))  # fmt: skip
        sent = 0
        try:
            for line in events.read_bytes().splitlines():
                target = route(line, plan)
                assert target is not None
                producer.send(target[0], key=target[1], value=line)
                sent += 1
            producer.flush()
        finally:
            producer.close()

        wait_for(lambda: events_counted(worker.web_port) == sent, 90,
                 f"{sent} events counted", worker.log_tail)  # fmt: skip
        assert events_counted(worker.web_port, "processed") > 0.9 * sent
        changes = read_all(sasl_broker, settings, plan.tier_changes.name)
        assert changes, "no tier change on the output topic"
        assert {"borrower_id", "tier", "cause_event_id"} <= set(json.loads(changes[0]))
    finally:
        worker.stop()
    log = worker.log_path.read_text(errors="replace")
    assert sasl_broker.password not in log, "the SASL password appeared in the worker's log"


def read_all(broker: SaslBroker, settings: Settings, topic: str) -> list[bytes]:
    return [record.value for record in records_to_end(broker.bootstrap, topic, settings)]
