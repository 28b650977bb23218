"""``loanwatch backtest``: replay events under one or two policies and write an HTML report.

Each policy runs through ``streams.replay.replay_file`` (the engine of ``loanwatch replay``,
outputs kept under ``DIR/replay-<name>/``) with a :class:`detectors.backtest.Collector`
watching every decision. The figures go to ``DIR/summary.json``, the charts to
``DIR/*.png`` and both into ``DIR/report.html`` (``streams/templates/report.html.j2``).

>>> import json, tempfile
>>> from detectors.simulation import Simulation
>>> from streams.simulate import write_simulation
>>> folder = Path(tempfile.mkdtemp())
>>> _ = write_simulation(Simulation(borrowers=60, seed=2), folder / "e.jsonl", folder / "t.csv")
>>> summary = run_backtest(folder / "e.jsonl", folder / "report", truth=folder / "t.csv")
>>> sum(summary["tier_counts"].values()), (folder / "report" / "report.html").is_file()
(60, True)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from tqdm import tqdm

from detectors.backtest import TIERS, Collector, compare
from detectors.policy import Policy, load_policy
from detectors.simulation import Outcome
from streams import plots
from streams.replay import replay_file
from streams.truth import read_truth

__all__ = ["PolicyRun", "run_backtest"]


@dataclass
class PolicyRun:
    """One policy's replay: its label, file, collector, figures and chart file names."""

    key: str  # "a" or "b": file names and summary keys
    label: str  # what the report calls it
    path: Path | None
    policy: Policy
    collector: Collector
    replay: dict[str, Any]
    charts: dict[str, str]

    @property
    def figures(self) -> dict[str, Any]:
        """The collector's figures (computed on each call: cache the result)."""
        return self.collector.figures()


def run_backtest(
    events: Path, out: Path, policy: Path | None = None, *, compare_with: Path | None = None,
    truth: Path | None = None, progress: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Backtest ``events`` into ``out``; returns the summary, also written as summary.json."""
    started = time.perf_counter()
    outcomes = read_truth(truth) if truth is not None else None
    out.mkdir(parents=True, exist_ok=True)
    paths = [policy] if compare_with is None else [policy, compare_with]
    runs = []
    for key, path in zip("ab", paths, strict=False):
        loaded = load_policy(path)
        label = f"{key.upper()}: {path.name if path else 'shipped default'} ({loaded.version})"
        collector = Collector(outcomes)
        summary = replay_file(events, out / f"replay-{key}", loaded, progress=progress,
                              observer=collector, desc=f"replay {key.upper()}")  # fmt: skip
        runs.append(PolicyRun(key, label, path, loaded, collector, summary, {}))
    figures = {run.key: run.figures for run in runs}
    diff = compare(runs[0].collector, runs[1].collector, outcomes) if len(runs) > 1 else None
    jobs = [job for run in runs for job in _chart_jobs(run, figures[run.key], out)]
    if len(runs) > 1:
        jobs += _compare_jobs(runs, figures, out)
    for job in tqdm(jobs, desc="charts", unit="chart", disable=not progress):
        job()
    primary = figures["a"]
    truth_figures = primary.get("truth", {})
    summary = {
        "events_file": str(events),
        "truth_file": None if truth is None else str(truth),
        "tier_counts": primary["tier_counts"],
        "share_flagged_before_bad": truth_figures.get("share_flagged_before_bad"),
        "median_lead_days": truth_figures.get("median_lead_days"),
        "policies": {
            run.key: {
                "label": run.label,
                "path": None if run.path is None else str(run.path),
                "version": run.policy.version,
                "replay": run.replay,
                "figures": figures[run.key],
                "charts": run.charts,
            }
            for run in runs
        },
        "compare": diff,
        "compare_charts": _compare_charts(runs),
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "report.html").write_text(_render(summary, outcomes), encoding="utf-8")
    return summary


def _chart_jobs(run: PolicyRun, figures: dict[str, Any], out: Path) -> list[Callable[[], None]]:
    """Chart-drawing closures for one policy; records each chart's file in ``run.charts``."""
    key, label = run.key, run.label
    collector = run.collector

    def chart(name: str, draw: Callable[[Path], None]) -> Callable[[], None]:
        run.charts[name] = f"{key}-{name}.png"
        return lambda: draw(out / run.charts[name])

    jobs = [
        chart("tier_mix", lambda p: plots.tier_mix_png(figures["tier_mix"], p,
                                                       f"Tier mix at month end\n{label}")),
        chart("transitions", lambda p: plots.matrix_png(figures["transitions"], p,
                                                        f"Tier changes\n{label}")),
        chart("alerts_by_queue", lambda p: plots.stacked_over_time_png(
            figures["alerts_by_month"], p, f"Alerts by queue\n{label}", "alerts")),
        chart("alerts_by_reason", lambda p: plots.stacked_over_time_png(
            figures["alert_reasons_by_month"], p, f"Alerts by leading reason\n{label}", "alerts")),
    ]  # fmt: skip
    truth = figures.get("truth")
    if truth is not None:
        auc = truth["auc_max_score_before_bad"]
        jobs += [
            chart("bad_rate_by_tier", lambda p: plots.rate_by_tier_png(
                truth["bad_rate_by_worst_tier"], truth["borrowers_by_worst_tier"], p,
                f"Bad rate by worst tier before going bad\n{label}")),
            chart("lead_time", lambda p: plots.lead_time_png(
                collector.lead_days(), p, f"Lead time from first C/D to going bad\n{label}")),
            chart("roc", lambda p: plots.roc_curve_png(
                *collector.roc_inputs(), p,
                f"ROC of the highest score before going bad\nAUC {auc}  {label}")),
        ]  # fmt: skip
    return jobs


_COMPARE_CHARTS = {
    "compare_tiers": "compare-tiers.png",
    "compare_alerts": "compare-alerts.png",
    "compare_flagged": "compare-flagged.png",
}


def _compare_jobs(
    runs: list[PolicyRun], figures: dict[str, dict[str, Any]], out: Path
) -> list[Callable[[], None]]:
    names = {run.key: run.label for run in runs}
    tiers = {names[k]: {t: float(f["tier_counts"][t]) for t in TIERS} for k, f in figures.items()}
    alerts = {names[k]: {q: float(n) for q, n in f["alerts_by_queue"].items()}
              for k, f in figures.items()}  # fmt: skip
    jobs: list[Callable[[], None]] = [
        lambda: plots.grouped_bars_png(tiers, out / _COMPARE_CHARTS["compare_tiers"],
                                       "Final tier counts by policy", "borrowers"),
        lambda: plots.grouped_bars_png(alerts, out / _COMPARE_CHARTS["compare_alerts"],
                                       "Alerts by queue and policy", "alerts"),
    ]  # fmt: skip
    if all("truth" in f for f in figures.values()):
        flagged = {names[k]: f["truth"]["flagged_share_by_archetype"] for k, f in figures.items()}
        jobs.append(lambda: plots.grouped_bars_png(
            flagged, out / _COMPARE_CHARTS["compare_flagged"],
            "Bad borrowers flagged C/D before going bad, by archetype", "share"))  # fmt: skip
    return jobs


def _compare_charts(runs: list[PolicyRun]) -> dict[str, str]:
    if len(runs) < 2:
        return {}
    charts = dict(_COMPARE_CHARTS)
    if runs[0].collector.truth is None:
        del charts["compare_flagged"]
    return charts


_CHART_TITLES = {
    "tier_mix": "Tier mix over time",
    "transitions": "Tier transition matrix",
    "alerts_by_queue": "Alerts by queue over time",
    "alerts_by_reason": "Alerts by leading reason over time",
    "bad_rate_by_tier": "Bad rate by tier",
    "lead_time": "Lead time from first C or D to going bad",
    "roc": "ROC of the score",
}


def _render(summary: dict[str, Any], truth: dict[str, Outcome] | None) -> str:
    environment = Environment(
        loader=PackageLoader("streams", "templates"), autoescape=select_autoescape(),
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    template = environment.get_template("report.html.j2")
    return template.render(
        summary=summary, policies=list(summary["policies"].values()), tiers=TIERS,
        chart_titles=_CHART_TITLES, has_truth=truth is not None,
    )  # fmt: skip
