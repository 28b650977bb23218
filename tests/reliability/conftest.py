"""Fixtures of the reliability suite (``make test-reliability``).

Every test here is marked ``reliability``: plain ``pytest`` (``make test``'s suite step)
leaves them out and ``make test-reliability`` runs them. Tests that stop a service do it to
a broker or database of their own, started by the project's scripts
(``deploy/local/kafka.sh`` / ``postgres.sh``) on free ports under a run directory of the
test's own, and stopped at the end: the shared local stack is never stopped. A service that
does not start fails the test (never a skip), in CI too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.migrate import migrate
from streams.settings import REPO_ROOT
from streams.worker_process import free_port
from tests.conftest import Stack, scratch_database

SCRIPTS = REPO_ROOT / "deploy" / "local"
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``reliability``."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


@dataclass
class OwnService:
    """A broker or database of one test, driven by its ``deploy/local`` script."""

    script: str
    env: dict[str, str]
    log: Path

    def run(self, action: str, timeout_s: float = 180) -> None:
        """``<script> <action>``; fail the test with the script's output if it fails."""
        with self.log.open("ab") as out:
            result = subprocess.run([str(SCRIPTS / self.script), action], env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s,
                                    check=False)  # fmt: skip
        if result.returncode != 0:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
            pytest.fail(f"{self.script} {action} failed:\n{tail}", pytrace=False)

    def start(self) -> None:
        self.run("start")

    def stop(self) -> None:
        self.run("stop")


def own_env(run_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for the scripts: a private run dir and free ports, never the shared
    stack's (and no LOANWATCH_DATABASE_URL, which would make postgres.sh use that server)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOANWATCH_DATABASE_URL", "LOANWATCH_KAFKA_BOOTSTRAP")}  # fmt: skip
    env.update(LOANWATCH_RUN_DIR=str(run_dir), LOANWATCH_START_TIMEOUT="120", **extra)
    return env


@pytest.fixture
def own_postgres() -> Iterator[tuple[OwnService, str]]:
    """A PostgreSQL cluster of this test's own (migrated database ``loanwatch``)."""
    # Not under pytest's tmp dir: as root, postgres.sh runs the cluster as the postgres
    # user, who cannot enter pytest's private folders.
    run_dir = Path(tempfile.mkdtemp(prefix="loanwatch-reliability-pg-"))
    run_dir.chmod(0o755)
    port = free_port()
    service = OwnService("postgres.sh", own_env(run_dir, LOANWATCH_PG_PORT=str(port)),
                         run_dir / "script.log")  # fmt: skip
    service.start()
    url = f"postgresql://loanwatch@127.0.0.1:{port}/loanwatch"
    try:
        migrate(url, REPO_ROOT / "sql")
        yield service, url
    finally:
        service.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def own_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnService, str]]:
    """A single-node Kafka of this test's own."""
    run_dir = tmp_path_factory.mktemp("own-kafka")
    port, controller = free_port(), free_port()
    env = own_env(run_dir, LOANWATCH_KAFKA_PORT=str(port),
                  LOANWATCH_KAFKA_CONTROLLER_PORT=str(controller), LOANWATCH_KAFKA_HEAP="512m")
    service = OwnService("kafka.sh", env, run_dir / "script.log")
    service.start()
    try:
        yield service, f"127.0.0.1:{port}"
    finally:
        service.stop()


@pytest.fixture
def scratch_stack(stack: Stack, server_url: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """An isolated pipeline on the shared stack: own topic prefix, app id and database."""
    name = request.node.name.split("[")[0].removeprefix("test_")[:20]
    databases = scratch_database(server_url, f"lwtest_{stack.run_id}_{name}")
    url = next(databases)
    migrate(url, REPO_ROOT / "sql")
    run_id = f"{stack.run_id}{name}"
    yield Stack(run_id, stack.kafka_bootstrap, url, f"lwtest.{run_id}.")
    next(databases, None)
