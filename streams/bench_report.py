"""``bench/results.json`` and the generated table of ``bench/RESULTS.md``.

The headline figures are named as the benchmark issue names them; the machine and the
versions come with them, so a figure is never read without its context. In ``RESULTS.md``
only the part between the markers is rewritten: the history of what each change bought is
written by hand around it.

>>> figures = headline({"core": {"events_per_second": 20000.0},
...                     "pipeline": {"pipeline": {"events_per_second": 5000.0},
...                                  "ceiling": {"events_per_second": 10000.0}}})
>>> figures["core_events_per_s"], figures["pipeline_to_ceiling_ratio"]
(20000.0, 0.5)
"""

from __future__ import annotations

import json
import os
import platform
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg

__all__ = ["environment", "headline", "write_results"]

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
TARGETS = {"core_events_per_s": ">= 50,000", "pipeline_events_per_s": ">= 10,000",
           "pipeline_to_ceiling_ratio": ">= 0.5", "latency_p99_ms": "<= 250"}  # fmt: skip


def _get(tree: dict[str, Any], *path: str) -> Any:
    for step in path:
        if not isinstance(tree, dict) or step not in tree:
            return None
        tree = tree[step]
    return tree


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The named figures, from the detail of a run (None where a phase did not run)."""
    pipe = results.get("pipeline", {})
    one = _get(pipe, "pipeline", "events_per_second")
    two = _get(pipe, "two_workers", "events_per_second")
    ceiling = _get(pipe, "ceiling", "events_per_second")
    recovery = pipe.get("recovery")
    recovery_s = None
    if recovery:
        extra = recovery["ready_s"] - recovery["startup_without_state_s"]
        recovery_s = round(max(0.0, extra) * 100_000 / recovery["borrowers"], 2)
    return {
        "core_events_per_s": _get(results, "core", "events_per_second"),
        "pipeline_events_per_s": one,
        "ceiling_events_per_s": ceiling,
        "pipeline_to_ceiling_ratio": round(one / ceiling, 3) if one and ceiling else None,
        "pipeline_cpu_us_per_event": _get(pipe, "pipeline", "cpu_us_per_event"),
        "latency_p50_ms": _get(pipe, "latency", "p50_ms"),
        "latency_p99_ms": _get(pipe, "latency", "p99_ms"),
        "state_bytes_per_borrower": _get(pipe, "state", "mean_bytes"),
        "recovery_s_per_100k_borrowers": recovery_s,
        "two_worker_speedup": round(two / one, 2) if one and two else None,
    }


def compiled_core() -> bool:
    """Whether the detectors engine was imported from its compiled extension (``make
    compiled``; the bench's workers inherit the same ``PYTHONPATH``).

    >>> isinstance(compiled_core(), bool)
    True
    """
    import detectors.engine

    return not (detectors.engine.__file__ or "").endswith(".py")


def allocator() -> str:
    """The C allocator of this process (the bench's workers inherit its environment):
    ``jemalloc`` when preloaded (``make bench`` does), else the C library's own.

    >>> allocator() in ("jemalloc", "libc")
    True
    """
    return "jemalloc" if "libjemalloc" in Path("/proc/self/maps").read_text() else "libc"


def environment(database_url: str | None = None) -> dict[str, Any]:
    """The machine and the versions a run used."""
    cpu = "unknown"
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    env: dict[str, Any] = {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        **{name: version(name) for name in ("faust-streaming", "aiokafka", "kafka-python",
                                            "river", "psycopg")},
        "kafka": os.environ.get("KAFKA_VERSION", "4.1.1"),
        "compiled_core": compiled_core(), "allocator": allocator(),
    }  # fmt: skip
    if database_url:
        with psycopg.connect(database_url) as conn:
            env["postgresql"] = conn.execute("show server_version").fetchone()[0]  # type: ignore[index]
    return env


def write_results(results: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write ``out/results.json`` and the generated table of ``out/RESULTS.md``."""
    out.mkdir(parents=True, exist_ok=True)
    document = {"figures": headline(results), **results}
    (out / "results.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    rows = ["| figure | value | target |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {_show(value)} | {TARGETS.get(name, '')} |"
             for name, value in document["figures"].items()]  # fmt: skip
    machine = results.get("environment", {})
    context = ", ".join(f"{k} {v}" for k, v in machine.items())
    block = "\n".join([BEGIN, f"Latest run ({results.get('finished_at', '')}): {context}.", "",
                       *rows, END])  # fmt: skip
    path = out / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{BEGIN}{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    return document


def _show(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    return str(value)
