"""PNG charts for evaluation and backtest reports (matplotlib, headless).

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> roc_curve_png([0.9, 0.2, 0.7, 0.4], [1, 0, 1, 0], out / "roc.png", "demo")
>>> (out / "roc.png").stat().st_size > 1000
True
"""

from __future__ import annotations

import statistics
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


def tier_mix_png(mix: Sequence[Mapping[str, int | str]], path: Path, title: str) -> None:
    """Stacked bars of the tier counts at each month end (``{"month": ..., "A": n, ...}``).

    >>> import tempfile, pathlib
    >>> png = pathlib.Path(tempfile.mkdtemp()) / "mix.png"
    >>> tier_mix_png([{"month": "2024-01", "A": 3, "B": 1, "C": 0, "D": 1}], png, "mix")
    >>> png.stat().st_size > 1000
    True
    """
    months = [str(row["month"]) for row in mix]
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0] * len(months)
    for tier, colour in TIER_COLOURS.items():
        values = [int(row.get(tier, 0)) for row in mix]
        ax.bar(months, values, bottom=bottom, color=colour, label=tier)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set(xlabel="month end", ylabel="borrowers", title=title)
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(title="tier", loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _save(fig, path)


def matrix_png(
    matrix: Mapping[str, Mapping[str, int]], path: Path, title: str,
    xlabel: str = "to tier", ylabel: str = "from tier",
) -> None:  # fmt: skip
    """A heat map of counts, rows and columns in the mapping's order, each cell labelled.

    >>> import tempfile, pathlib
    >>> png = pathlib.Path(tempfile.mkdtemp()) / "m.png"
    >>> matrix_png({"new": {"A": 5, "B": 1}, "A": {"A": 0, "B": 2}}, png, "moves")
    >>> png.stat().st_size > 1000
    True
    """
    rows = list(matrix)
    columns = list(next(iter(matrix.values()), {}))
    values = [[matrix[r].get(c, 0) for c in columns] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(values, cmap="Blues")
    peak = max((v for row in values for v in row), default=0) or 1
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            ax.text(j, i, f"{value:,}", ha="center", va="center", fontsize=8,
                    color="white" if value > peak / 2 else "black")  # fmt: skip
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), rows)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    _save(fig, path)


def stacked_over_time_png(
    series: Mapping[str, Mapping[str, int]], path: Path, title: str, ylabel: str, top: int = 7
) -> None:
    """Stacked bars per period (outer key) of counts per category; the smallest as "other".

    >>> import tempfile, pathlib
    >>> png = pathlib.Path(tempfile.mkdtemp()) / "s.png"
    >>> stacked_over_time_png({"2024-01": {"q1": 2, "q2": 1}}, png, "alerts", "alerts")
    >>> png.stat().st_size > 1000
    True
    """
    totals: dict[str, int] = {}
    for counts in series.values():
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    ranked = sorted(totals, key=lambda k: -totals[k])
    keep = ranked if len(ranked) <= top + 1 else ranked[:top]
    periods = list(series)
    fig, ax = plt.subplots(figsize=(8.5, 4))
    bottom = [0] * len(periods)
    groups = [(k, [series[p].get(k, 0) for p in periods]) for k in keep]
    rest = [sum(v for k, v in series[p].items() if k not in keep) for p in periods]
    if any(rest):
        groups.append(("other", rest))
    colours = plt.get_cmap("tab10")
    for index, (label, values) in enumerate(groups):
        ax.bar(periods, values, bottom=bottom, label=label, color=colours(index % 10))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set(xlabel="month", ylabel=ylabel, title=title)
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(fig, path)


def lead_time_png(days: Sequence[float], path: Path, title: str) -> None:
    """A histogram of lead times in days, with the median marked.

    >>> import tempfile, pathlib
    >>> png = pathlib.Path(tempfile.mkdtemp()) / "lead.png"
    >>> lead_time_png([3.0, 40.5, 61.0], png, "lead")
    >>> png.stat().st_size > 1000
    True
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(list(days) or [0.0], bins=30, color="#1565c0")
    if days:
        median = statistics.median(days)
        ax.axvline(median, color="#c62828", linestyle="--", label=f"median {median:.0f} days")
        ax.legend(loc="upper right")
    ax.set(xlabel="days from first C or D to going bad", ylabel="bad borrowers", title=title)
    _save(fig, path)


def grouped_bars_png(
    groups: Mapping[str, Mapping[str, float]], path: Path, title: str, ylabel: str
) -> None:
    """Bars side by side: one colour per outer key (e.g. policy), categories on the x axis.

    >>> import tempfile, pathlib
    >>> png = pathlib.Path(tempfile.mkdtemp()) / "g.png"
    >>> grouped_bars_png({"a": {"A": 3, "B": 1}, "b": {"A": 2, "B": 2}}, png, "tiers", "n")
    >>> png.stat().st_size > 1000
    True
    """
    names = list(groups)
    categories = list(dict.fromkeys(c for counts in groups.values() for c in counts))
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(6, 4))
    for index, name in enumerate(names):
        xs = [i + (index - (len(names) - 1) / 2) * width for i in range(len(categories))]
        ax.bar(xs, [groups[name].get(c, 0) for c in categories], width=width, label=name)
    ax.set_xticks(range(len(categories)), categories)
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    _save(fig, path)


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
