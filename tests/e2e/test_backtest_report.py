"""``loanwatch simulate`` then ``loanwatch backtest --compare --truth``, opened in headless
Chromium: every chart in the report loads with a real size, and the figures are there.

Chromium comes from Debian (``deploy/local/chromium.sh``, a prerequisite of ``make test``);
without it this test fails, it never skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from streams.settings import REPO_ROOT

WHAT_IF = REPO_ROOT / "docs" / "examples" / "policy-cautious.toml"


def cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "streams.cli", *args], capture_output=True,
                            text=True, timeout=300, env=os.environ)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: run deploy/local/chromium.sh (make test does)",
                    pytrace=False)  # fmt: skip
    return found


def headless(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--allow-file-access-from-files", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("backtest")
    cli("simulate", "--borrowers", "400", "--months", "12", "--seed", "7",
        "--out", str(folder / "events.jsonl"))  # fmt: skip
    assert (folder / "truth.csv").is_file()
    out = cli("backtest", str(folder / "events.jsonl"), "--truth", str(folder / "truth.csv"),
              "--compare", str(WHAT_IF), "--out", str(folder / "report"))  # fmt: skip
    assert "reach C or D first" in out
    return folder / "report"


def test_every_chart_loads_in_chromium(report: Path) -> None:
    html = (report / "report.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', html)
    # 7 charts per policy (with truth), two policies, and 3 comparison charts
    assert len(sources) == 17
    assert all((report / source).stat().st_size > 5000 for source in sources)
    page = (report / "report.html").as_uri()
    dom = headless("--virtual-time-budget=10000", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body is not None, dom.stdout[:2000]
    assert f'data-charts-loaded="{len(sources)}/{len(sources)}"' in body.group(0)
    assert 'data-charts-ready="true"' in body.group(0)


def test_screenshot_shows_the_report(report: Path) -> None:
    from matplotlib import image

    shot = report.parent / "shot.png"
    result = headless("--window-size=1400,1600", f"--screenshot={shot}",
                      (report / "report.html").as_uri())  # fmt: skip
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    pixels = image.imread(shot)
    assert pixels.shape[0] == 1600 and pixels.shape[1] == 1400
    # not a blank page: the tier colours of the charts are on screen
    assert pixels.std() > 0.1
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red.sum() > 500


def test_summary_figures(report: Path) -> None:
    summary = json.loads((report / "summary.json").read_text())
    assert all(summary["tier_counts"][tier] > 0 for tier in "ABCD"), summary["tier_counts"]
    assert summary["share_flagged_before_bad"] > 0.5
    assert summary["median_lead_days"] > 0
    assert set(summary["policies"]) == {"a", "b"}
    assert summary["policies"]["b"]["version"] == "cautious-2024.1"
    compare = summary["compare"]
    assert compare["borrowers_changed"] > 0 and compare["examples"]
    html = (report / "report.html").read_text()
    assert compare["examples"][0]["borrower_id"] in html
