"""A real Prometheus server scrapes a running worker and evaluates loanwatch's alert rules.

Prometheus is Debian's package (``deploy/local/prometheus.sh install``, a prerequisite of
``make test``); a missing binary fails the test. The server runs on a free loopback port with
a temporary configuration: one scrape job ``loanwatch`` (the name the rules expect) on the
worker's web port, the rules of ``deploy/prometheus/rules.yml``, 1 s intervals.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streams import metrics
from streams.settings import REPO_ROOT
from streams.worker_process import free_port
from tests.conftest import Stack, WorkerProcess
from tests.e2e.pipeline_support import produce, simulated_events

RULES = REPO_ROOT / "deploy/prometheus/rules.yml"
HINT = "install it with deploy/local/prometheus.sh install (make test does)"


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        pytest.fail(f"prometheus is not on PATH; {HINT}", pytrace=False)
    return path


class Prometheus:
    """A throwaway Prometheus server with its HTTP API on ``port``."""

    def __init__(self, workdir: Path, target_port: int) -> None:
        self.port = free_port()
        self.config = workdir / "prometheus.yml"
        self.config.write_text(json.dumps({  # JSON is YAML
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{
                "job_name": "loanwatch",
                "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}],
            }],
        }))  # fmt: skip
        self.log_path = workdir / "prometheus.log"
        self.process = subprocess.Popen(
            [prometheus_binary(), f"--config.file={self.config}",
             f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def get(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expr)
        assert data["resultType"] == "vector", data
        return list(data["result"])

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            assert self.process.poll() is None, f"prometheus exited:\n{self.log_tail()}"
            return False

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_for(
    check: Callable[[], bool], timeout_s: float, what: str, *logs: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout_s:.0f} s\n"
                                 + "\n---\n".join(log() for log in logs))  # fmt: skip
        time.sleep(0.5)


def worker_ready(worker: WorkerProcess) -> bool:
    assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/ready", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def scraped(
    pipeline_stack: Callable[[str], Stack], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A worker that processed a small simulated stream, and Prometheus scraping it."""
    workdir = tmp_path_factory.mktemp("prometheus")
    stack = pipeline_stack("prom")
    worker = WorkerProcess(stack, workdir, "worker", LOANWATCH_LAG_INTERVAL_S="1").start()
    prometheus = Prometheus(workdir, worker.web_port)
    try:
        wait_for(prometheus.ready, 60, "prometheus ready", prometheus.log_tail)
        wait_for(lambda: worker_ready(worker), 120, "worker ready", worker.log_tail)
        sent = produce(stack, simulated_events(workdir / "events.jsonl", 300, seed=11))

        def all_counted() -> bool:
            assert worker.process is not None and worker.process.poll() is None, (
                f"the worker exited:\n{worker.log_tail()}"
            )
            return prometheus.value("sum(loanwatch_events_total)") == sent

        wait_for(all_counted, 150, f"{sent} events counted in Prometheus",
                 worker.log_tail, prometheus.log_tail)  # fmt: skip

        def sampled_enough() -> bool:  # a rate needs two samples, the lag gauge its first
            twice = prometheus.value("max(count_over_time(loanwatch_events_total[1m]))") or 0
            return twice >= 2 and prometheus.value("count(loanwatch_consumer_lag_messages)") == 3

        # A worker can take the whole stream in before Prometheus scrapes it a second time.
        wait_for(sampled_enough, 30, "two scrapes of the counts", prometheus.log_tail)
        yield {"prometheus": prometheus, "worker": worker, "sent": sent}
    finally:
        prometheus.stop()
        worker.stop()


def test_prometheus_scrapes_the_worker_and_finds_loanwatch_metrics_with_values(
    scraped: dict[str, Any],
) -> None:
    prometheus: Prometheus = scraped["prometheus"]
    assert prometheus.value('up{job="loanwatch"}') == 1
    processed = prometheus.value('sum(loanwatch_events_total{outcome="processed"})')
    assert processed is not None and processed > 0.9 * scraped["sent"]
    transitions = prometheus.value("sum(loanwatch_tier_transitions_total)")
    assert transitions is not None and transitions > 0
    flushes = prometheus.value("sum(loanwatch_sink_flush_seconds_count)")
    assert flushes is not None and flushes > 0
    decided = prometheus.value("sum(loanwatch_event_to_decision_seconds_bucket{le='+Inf'})")
    assert decided == processed
    series = prometheus.query('{__name__=~"loanwatch_.+"}')
    names = {one["metric"]["__name__"] for one in series}
    assert len(names) >= 15, names


def test_consumer_lag_is_reported_per_input_topic(scraped: dict[str, Any]) -> None:
    prometheus: Prometheus = scraped["prometheus"]
    worker: WorkerProcess = scraped["worker"]
    topics = {s["metric"]["topic"] for s in prometheus.query("loanwatch_consumer_lag_messages")}
    prefix = worker.env["LOANWATCH_TOPIC_PREFIX"]
    assert topics == {f"{prefix}events.{short}" for short in ("repayment", "borrowing", "contact")}

    def caught_up() -> bool:
        return prometheus.value("sum(loanwatch_consumer_lag_messages)") == 0

    wait_for(caught_up, 60, "consumer lag back to 0", worker.log_tail)


def test_every_alert_rule_loads_and_evaluates_without_error(scraped: dict[str, Any]) -> None:
    prometheus: Prometheus = scraped["prometheus"]

    def evaluated() -> bool:
        groups = prometheus.get("/api/v1/rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return len(rules) == 7 and all(r["lastEvaluation"] > "2000" for r in rules)

    wait_for(evaluated, 30, "every rule evaluated", prometheus.log_tail)
    rules = [r for g in prometheus.get("/api/v1/rules")["groups"] for r in g["rules"]]
    assert {r["health"] for r in rules} == {"ok"}, [(r["name"], r.get("lastError")) for r in rules]
    # Nothing is wrong with a healthy worker that just processed a stream: no rule fires.
    firing = [a for a in prometheus.get("/api/v1/alerts")["alerts"] if a["state"] == "firing"]
    assert firing == []


def test_the_worker_exports_exactly_the_names_the_registry_describes(
    scraped: dict[str, Any],
) -> None:
    """The registry check of the dashboard and rules (tests/unit/deploy) relies on this."""
    worker: WorkerProcess = scraped["worker"]
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    served = set(re.findall(r"^(loanwatch_[a-z_]+)", text, flags=re.MULTILINE))
    assert served, text[:500]
    assert served <= metrics.exported_names(), served - metrics.exported_names()


def test_every_dashboard_query_runs_on_the_real_server(scraped: dict[str, Any]) -> None:
    prometheus: Prometheus = scraped["prometheus"]
    dashboard = json.loads((REPO_ROOT / "deploy/grafana/dashboards/loanwatch.json").read_text())
    results = {}
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "1m")
            results[expr] = prometheus.query(expr)  # a PromQL error fails the request
    assert len(results) >= 20
    throughput = next(r for e, r in results.items() if "rate(loanwatch_events_total" in e)
    assert throughput and {s["metric"]["outcome"] for s in throughput} >= {"processed"}
    tiers = results["max by (tier) (loanwatch_borrowers_by_tier)"]
    assert tiers == [] or {s["metric"]["tier"] for s in tiers} == set("ABCD")
