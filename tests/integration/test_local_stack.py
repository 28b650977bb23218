"""``deploy/local/stack.sh run``, which ``make test`` and ``make bench`` go through: it starts
what does not run, runs the command, stops only what it started, and exits as the command did.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Stack

pytestmark = pytest.mark.integration
STACK = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.sh"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STACK), *args], capture_output=True, text=True, timeout=600,
                          env=env)  # fmt: skip


def test_a_running_stack_is_left_up_and_the_commands_status_comes_back(stack: Stack) -> None:
    assert run("status").stdout.split() == ["kafka:", "up", "postgres:", "up"]

    finished = run("run", "sh", "-c", "exit 7")

    assert finished.returncode == 7
    assert "stopping" not in finished.stderr
    assert run("status").stdout.split() == ["kafka:", "up", "postgres:", "up"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def second_stack() -> Iterator[dict[str, str]]:
    """The environment of a stack of its own: other ports, another run directory (which the
    postgres user can enter, as it runs the cluster when the tests run as root)."""
    run_dir = Path(tempfile.mkdtemp(prefix="lw-stack-"))
    run_dir.chmod(0o755)
    env = {**os.environ, "LOANWATCH_RUN_DIR": str(run_dir),
           "LOANWATCH_KAFKA_PORT": str(free_port()),
           "LOANWATCH_KAFKA_CONTROLLER_PORT": str(free_port()),
           "LOANWATCH_PG_PORT": str(free_port()), "LOANWATCH_KAFKA_HEAP": "256m"}  # fmt: skip
    env.pop("LOANWATCH_DATABASE_URL", None)
    env.pop("LOANWATCH_KAFKA_BOOTSTRAP", None)
    yield env
    run("stop", env=env)  # whatever a failed assertion left running
    shutil.rmtree(run_dir, ignore_errors=True)


def test_what_run_starts_it_stops_after_the_command(second_stack: dict[str, str]) -> None:
    assert run("status", env=second_stack).stdout.split() == ["kafka:", "down", "postgres:", "down"]

    finished = run("run", str(STACK), "status", env=second_stack)

    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.split() == ["kafka:", "up", "postgres:", "up"]  # while it ran
    assert "stopping Kafka" in finished.stderr and "stopping PostgreSQL" in finished.stderr
    assert run("status", env=second_stack).stdout.split() == ["kafka:", "down", "postgres:", "down"]


def test_a_failed_start_stops_what_was_started_and_fails(second_stack: dict[str, str]) -> None:
    env = {**second_stack, "LOANWATCH_START_TIMEOUT": "3"}
    with socket.socket() as squatter:  # listens on PostgreSQL's port and never answers
        squatter.bind(("127.0.0.1", int(env["LOANWATCH_PG_PORT"])))
        squatter.listen()

        finished = run("run", "true", env=env)

    assert finished.returncode != 0
    assert "postgres runs but does not answer" in finished.stderr
    assert "stopping Kafka" in finished.stderr  # started by this call, so stopped by it
    assert run("status", env=env).stdout.split() == ["kafka:", "down", "postgres:", "down"]
