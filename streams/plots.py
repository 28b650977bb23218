"""PNG charts for evaluation and backtest reports (matplotlib, headless).

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> roc_curve_png([0.9, 0.2, 0.7, 0.4], [1, 0, 1, 0], out / "roc.png", "demo")
>>> (out / "roc.png").stat().st_size > 1000
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen before pyplot is imported
from matplotlib.figure import Figure

TIER_COLOURS = {"A": "#2e7d32", "B": "#f9a825", "C": "#ef6c00", "D": "#c62828"}


def roc_points(scores: Sequence[float], labels: Sequence[int]) -> list[tuple[float, float]]:
    """(false positive rate, true positive rate) at every distinct threshold.

    >>> roc_points([0.9, 0.1], [1, 0])
    [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    """
    positives = sum(labels) or 1
    negatives = (len(labels) - sum(labels)) or 1
    ranked = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    points = [(0.0, 0.0)]
    tp = fp = 0
    for index, (score, label) in enumerate(ranked):
        tp += label
        fp += 1 - label
        if index + 1 == len(ranked) or ranked[index + 1][0] != score:
            points.append((fp / negatives, tp / positives))
    return points


def roc_curve_png(
    scores: Sequence[float], labels: Sequence[int], path: Path, title: str
) -> None:
    """The ROC curve of ``scores`` against ``labels``."""
    xs, ys = zip(*roc_points(scores, labels), strict=True)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(xs, ys, color="#1565c0", label="score")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right")
    _save(fig, path)


def rate_by_tier_png(
    rates: Mapping[str, float | None], counts: Mapping[str, int], path: Path, title: str
) -> None:
    """Bars of the bad rate per tier, each labelled with its count."""
    tiers = list(rates)
    values = [rates[tier] or 0.0 for tier in tiers]
    fig, ax = plt.subplots(figsize=(5, 4))
    bars = ax.bar(tiers, values, color=[TIER_COLOURS.get(t, "grey") for t in tiers])
    for bar, tier in zip(bars, tiers, strict=True):
        ax.annotate(f"n={counts[tier]}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    ax.set(xlabel="tier", ylabel="bad rate", title=title)
    _save(fig, path)


def calibration_png(
    scores: Sequence[float], labels: Sequence[int], path: Path, title: str, bins: int = 10
) -> None:
    """Observed bad rate against mean score, per decile of score."""
    ranked = sorted(zip(scores, labels, strict=True))
    size = max(1, len(ranked) // bins)
    groups = [ranked[i : i + size] for i in range(0, len(ranked), size)]
    mean_score = [sum(s for s, _ in g) / len(g) for g in groups]
    observed = [sum(y for _, y in g) / len(g) for g in groups]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    ax.plot(mean_score, observed, marker="o", color="#1565c0", label="score deciles")
    ax.set(xlabel="mean predicted probability", ylabel="observed bad rate", title=title)
    ax.legend(loc="upper left")
    _save(fig, path)


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
