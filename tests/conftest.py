"""Session fixtures: the real broker and database of the local stack, isolated per run.

Each test session gets its own topic prefix and its own PostgreSQL database, both removed
at the end. ``LOANWATCH_KAFKA_BOOTSTRAP`` and ``LOANWATCH_DATABASE_URL`` point the tests at
other servers. A broker or database that does not answer fails the tests that need it: it
is never a skip, so CI cannot go green without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams import worker_process
from streams.health import database_answers, kafka_round_trip
from streams.migrate import create_database, drop_database
from streams.settings import Settings
from streams.topics import delete_topics_containing

START_HINT = "start the local stack with `deploy/local/stack.sh up` (make test does this)"


@dataclass(frozen=True)
class Stack:
    """Addresses and names one test session uses."""

    run_id: str
    kafka_bootstrap: str
    database_url: str
    topic_prefix: str

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a loanwatch subprocess bound to this session's stack."""
        return {
            **os.environ,
            "LOANWATCH_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "LOANWATCH_DATABASE_URL": self.database_url,
            "LOANWATCH_TOPIC_PREFIX": self.topic_prefix,
            "LOANWATCH_APP_ID": f"lwtest-{self.run_id}",
            **extra,
        }


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def kafka_bootstrap(run_id: str) -> Iterator[str]:
    bootstrap = Settings().kafka_bootstrap
    try:
        kafka_round_trip(bootstrap, timeout_s=15)
    except Exception as error:
        pytest.fail(f"Kafka at {bootstrap} is not usable ({error}); {START_HINT}", pytrace=False)
    yield bootstrap
    delete_topics_containing(bootstrap, run_id)


@pytest.fixture(scope="session")
def server_url() -> str:
    url = Settings().database_url
    try:
        database_answers(url)
    except Exception as error:
        pytest.fail(f"PostgreSQL at {url} is not usable ({error}); {START_HINT}", pytrace=False)
    return url


@pytest.fixture(scope="session")
def database_url(server_url: str, run_id: str) -> Iterator[str]:
    """A fresh database for this session on the configured server, dropped afterwards."""
    yield from scratch_database(server_url, f"lwtest_{run_id}")


def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """Create database ``name`` beside the one in ``server_url``; drop it when done."""
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="session")
def stack(run_id: str, kafka_bootstrap: str, database_url: str) -> Stack:
    return Stack(run_id, kafka_bootstrap, database_url, topic_prefix=f"lwtest.{run_id}.")


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    """A database of its own for one test (migration tests need an empty one)."""
    yield from scratch_database(server_url, f"lwtest_{uuid.uuid4().hex[:12]}")


class WorkerProcess(worker_process.WorkerProcess):
    """A ``loanwatch worker`` subprocess bound to this session's stack."""

    def __init__(self, stack: Stack, workdir: Path, name: str = "worker", **env: str) -> None:
        super().__init__(workdir, name, stack.env(**env))


@pytest.fixture
def start_worker(stack: Stack, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start loanwatch workers for one test; all are stopped when it ends."""
    started: list[WorkerProcess] = []

    def start(name: str = "worker") -> WorkerProcess:
        worker = WorkerProcess(stack, tmp_path, name).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def pipeline_stack(
    run_id: str, kafka_bootstrap: str, server_url: str
) -> Iterator[Callable[[str], Stack]]:
    """Make an isolated pipeline: its own topic prefix, app id and migrated database."""
    from streams.migrate import migrate
    from streams.settings import REPO_ROOT

    cleanups: list[Iterator[str]] = []

    def make(name: str) -> Stack:
        databases = scratch_database(server_url, f"lwtest_{run_id}_{name}")
        url = next(databases)
        cleanups.append(databases)
        migrate(url, REPO_ROOT / "sql")
        return Stack(f"{run_id}{name}", kafka_bootstrap, url, f"lwtest.{run_id}{name}.")

    yield make
    for databases in cleanups:
        next(databases, None)
