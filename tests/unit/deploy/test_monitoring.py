"""Alert rules and the Grafana dashboard: promtool checks them, and every metric they name is
one a worker exports (names from the prometheus-client registry of ``streams.metrics``; the
e2e test ``tests/e2e/test_prometheus.py`` checks the registry against a live worker)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams import metrics
from streams.settings import REPO_ROOT

PROMETHEUS_DIR = REPO_ROOT / "deploy/prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"
DASHBOARD = REPO_ROOT / "deploy/grafana/dashboards/loanwatch.json"
GRAFANA_PROVISIONING = REPO_ROOT / "deploy/grafana/provisioning"
METRIC = re.compile(r"\b(loanwatch_[a-z0-9_]+)")
# Series the rules and panels may use that Prometheus itself makes.
PROMETHEUS_SERIES = {"up"}
EXPECTED_ALERTS = {
    "LoanwatchWorkerDown", "LoanwatchConsumerLagGrowing", "LoanwatchNoEventsArriving",
    "LoanwatchDeadLettersRising", "LoanwatchAlertSurge", "LoanwatchModelDrift",
    "LoanwatchSinkFailing",
}  # fmt: skip


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not on PATH; install it with deploy/local/prometheus.sh install "
                    "(make test does)", pytrace=False)  # fmt: skip
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=120)


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def test_promtool_checks_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(EXPECTED_ALERTS)} rules found" in result.stdout


def test_promtool_rule_unit_tests_pass() -> None:
    tests = sorted(str(p) for p in (PROMETHEUS_DIR / "tests").glob("*.yml"))
    assert tests
    result = promtool("test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_fails_a_rule_test_that_expects_the_wrong_thing(tmp_path: Path) -> None:
    """The unit tests can fail: a test expecting a dead-letter page on a clean stream does."""
    broken = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{
                "series": 'loanwatch_events_total{event_type="repayment",outcome="processed"}',
                "values": "0+100x40",
            }],
            "alert_rule_test": [{
                "eval_time": "30m", "alertname": "LoanwatchDeadLettersRising",
                "exp_alerts": [{"exp_labels": {"severity": "warning"}}],
            }],
        }],
    }  # fmt: skip
    path = tmp_path / "broken_test.yml"
    path.write_text(json.dumps(broken))
    result = promtool("test", "rules", str(path))
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_every_alert_the_issue_asks_for_exists_with_a_severity_and_summary() -> None:
    by_name = {rule["alert"]: rule for rule in rules()}
    assert set(by_name) == EXPECTED_ALERTS
    for rule in by_name.values():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["runbook"] == "docs/operations.md#alerts"


def test_the_compose_prometheus_config_is_valid(tmp_path: Path) -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    assert [job["job_name"] for job in config["scrape_configs"]] == ["loanwatch"]
    config["rule_files"] = [str(RULES)]  # the container path, here the repository's file
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = promtool("check", "config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_metric_named_is_exported_by_the_worker(source: str) -> None:
    exprs = [rule["expr"] for rule in rules()] if source == "rules" else dashboard_exprs()
    named = {name for expr in exprs for name in METRIC.findall(expr)}
    assert len(named) >= (6 if source == "rules" else 15), named
    assert named <= metrics.exported_names(), sorted(named - metrics.exported_names())


def test_the_name_check_catches_a_wrong_name() -> None:
    # Names as registered, without the suffix prometheus-client adds, are not exported.
    assert "loanwatch_events" not in metrics.exported_names()
    assert "loanwatch_ingest_to_output_seconds" not in metrics.exported_names()


def test_the_dashboard_covers_what_operators_watch() -> None:
    document = json.loads(DASHBOARD.read_text())
    panels = document["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in ("events / s", "lag", "latency", "tier mix", "alerts / s by queue",
                  "dead letters", "auc", "psi", "sink"):  # fmt: skip
        assert topic in titles, topic
    text = " ".join(dashboard_exprs())
    for metric in ("loanwatch_events_total", "loanwatch_ingest_to_output_seconds_bucket",
                   "loanwatch_borrowers_by_tier", "loanwatch_alerts_total",
                   "loanwatch_dead_letters_total", "loanwatch_model_rolling_auc"):  # fmt: skip
        assert metric in text, metric
    for panel in panels:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


def test_the_dashboard_uses_the_provisioned_datasource() -> None:
    sources = yaml.safe_load((GRAFANA_PROVISIONING / "datasources/prometheus.yml").read_text())
    uids = {source["uid"] for source in sources["datasources"]}
    panels = json.loads(DASHBOARD.read_text())["panels"]
    used = {p["datasource"]["uid"] for p in panels if "datasource" in p}
    used |= {t["datasource"]["uid"] for p in panels for t in p.get("targets", [])}
    assert used and used <= uids
    providers = yaml.safe_load((GRAFANA_PROVISIONING / "dashboards/loanwatch.yml").read_text())
    compose = yaml.safe_load((REPO_ROOT / "deploy/compose/compose.yaml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    path = providers["providers"][0]["options"]["path"]
    assert any(mount.endswith(f":{path}:ro") and "grafana/dashboards" in mount for mount in mounts)
