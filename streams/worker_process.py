"""A ``loanwatch worker`` in a subprocess, for the tools that drive workers (benchmarks, the
demo, the end-to-end tests): its own web port, data directory and log file, and its metrics.

>>> worker = WorkerProcess(Path("/tmp/lw-doc"), "w1", {"LOANWATCH_APP_ID": "doc"})
>>> worker.env["LOANWATCH_APP_ID"], worker.log_path.name, worker.running
('doc', 'w1.log', False)
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["WorkerProcess", "free_port", "metric_total", "wait_for"]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now.

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.5) -> None:
    """Poll ``check`` until it holds; raise ``TimeoutError`` naming ``what`` after ``timeout_s``.

    >>> wait_for(lambda: True, 1, "truth")
    """
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout_s:.0f} s")
        time.sleep(poll_s)


def metric_total(samples: Mapping[str, list[tuple[dict[str, str], float]]], name: str,
                 **labels: str) -> float:  # fmt: skip
    """Sum of a metric's samples whose labels include ``labels``.

    >>> samples = {"x_total": [({"outcome": "a"}, 2.0), ({"outcome": "b"}, 3.0)]}
    >>> metric_total(samples, "x_total"), metric_total(samples, "x_total", outcome="b")
    (5.0, 3.0)
    """
    return sum(value for found, value in samples.get(name, [])
               if all(found.get(k) == v for k, v in labels.items()))  # fmt: skip


class WorkerProcess:
    """One worker subprocess; ``env`` adds to (and overrides) this process's environment."""

    def __init__(self, workdir: Path, name: str, env: Mapping[str, str]) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "LOANWATCH_WEB_PORT": str(self.web_port),
            "LOANWATCH_DATA_DIR": str(workdir / f"{name}-data"),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the subprocess was started and has not exited."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> WorkerProcess:
        """Start the worker, appending its output to :attr:`log_path`."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streams.cli", "worker", "-l", "info"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30) -> None:
        """Send ``sig`` and wait; a worker that does not exit in ``timeout_s`` is killed."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time the worker has used so far, user and system (0 before it starts).

        A benchmark reads it around a phase: CPU per event moves less than events per
        second when other work shares the machine.

        >>> WorkerProcess(Path("/tmp"), "not-started", {}).cpu_seconds()
        0.0
        """
        if self.process is None:
            return 0.0
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the worker's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        """``GET path`` on the worker's web server: (status, JSON body or text)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.web_port}{path}")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body.decode(errors="replace")

    def ready(self) -> bool:
        """Whether ``/ready`` answers 200 (partitions assigned, table recovered)."""
        try:
            return self.get("/ready")[0] == 200
        except OSError:
            return False

    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """The worker's metric samples by sample name (``{}`` while it does not answer)."""
        try:
            status, text = self.get("/metrics")
        except OSError:
            return {}
        if status != 200:
            return {}
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(str(text)):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
        return samples
