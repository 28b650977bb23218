"""``loanwatch evaluate taiwan``: the delayed-label protocol on the real Taiwan file.

Reads the CSV, runs :func:`detectors.evaluation.evaluate` with a progress bar, and writes
``metrics.json`` and three PNG charts (ROC, default rate by tier, calibration) to ``out``.
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from detectors.evaluation import evaluate
from detectors.policy import Policy
from detectors.taiwan import LABEL, TaiwanClient
from streams import plots

LAST = 20000


class DatasetError(ValueError):
    """The data file cannot be read as the Taiwan CSV."""


def read_clients(path: Path) -> list[TaiwanClient]:
    """Every client of the CSV; a missing column or bad cell names its line."""
    try:
        handle = path.open(newline="")
    except OSError as error:
        raise DatasetError(f"cannot read {path}: {error.strerror}") from error
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or LABEL not in reader.fieldnames:
            raise DatasetError(f"{path} has no '{LABEL}' column: not the Taiwan file")
        clients = []
        for line, row in enumerate(reader, start=2):
            try:
                clients.append(TaiwanClient.from_row(row))
            except (KeyError, TypeError, ValueError) as error:
                raise DatasetError(f"{path}:{line}: {error!r}") from error
    return clients


def run_taiwan(
    data: Path, out: Path, policy: Policy, *, delay: int, seed: int, learn_early: bool,
    show_progress: bool,
) -> dict[str, Any]:  # fmt: skip
    """Evaluate, write ``out/metrics.json`` and the charts; return the metrics."""
    clients = read_clients(data)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tqdm(total=len(clients), unit="client", disable=not show_progress) as bar:
        result = evaluate(
            clients, policy, delay=delay, seed=seed, learn_early=learn_early,
            progress=bar.update,
        )  # fmt: skip
    metrics: dict[str, Any] = {
        **result.metrics(last=LAST),
        "delay": delay,
        "seed": seed,
        "learn_early": learn_early,
        "policy_version": policy.version,
        "final_model_version": result.predictions[-1].model_version,
        "models": result.model_figures,
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / "metrics.json").write_text(json.dumps(_finite(metrics), indent=2) + "\n")
    scores = [p.score for p in result.predictions]
    labels = [p.label for p in result.predictions]
    title = f"Taiwan, delay {delay}: AUC {metrics['auc_all']:.3f}"
    plots.roc_curve_png(scores, labels, out / "roc.png", title)
    plots.rate_by_tier_png(
        metrics["default_rate_by_tier"], metrics["count_by_tier"],
        out / "default_rate_by_tier.png", "October default rate by final tier",
    )  # fmt: skip
    plots.calibration_png(scores, labels, out / "calibration.png", "Calibration")
    return metrics


def _finite(value: Any) -> Any:
    """JSON has no NaN: non-finite numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
