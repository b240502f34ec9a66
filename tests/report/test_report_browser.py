"""The HTML report of a run against a faulty mock, rendered by a real headless browser (Debian's `chromium`, which
`.ci/run` installs; skipped with the reason where there is none): the DOM after the inline script ran has the
matrix, the finding groups and the filter controls shown, and a screenshot is written into the run's report folder
(and copied into `$KIMI_SCREENSHOT_DIR` when set). The run is one model, the quick profile, two suite modules:
about 5 s, the browser a few more."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.kimi_cli import QUICK, run

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def headless(*args: str) -> subprocess.CompletedProcess[str]:
    """One headless browser call (no sandbox: CI containers run as root; no GPU)."""
    assert BROWSER is not None
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(BROWSER is None, reason="no chromium or chromium-browser on PATH (.ci/run installs chromium)")
def test_a_faulty_runs_report_in_a_real_browser(tmp_path: Path) -> None:
    faults = ("--mock-fault", "usage-total-wrong", "--mock-fault", "stream-role-repeated")
    ran = run(tmp_path, *QUICK, *faults, "test_chat.py", "test_streaming.py")
    assert ran.code == 1 and ran.folder is not None, ran.output[-3000:]
    page = (ran.folder / "report.html").as_uri()
    dumped = headless("--dump-dom", page)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert re.search(r'<table id="matrix" class="matrix">', dom)
    assert re.search(r'<td class="cell-fail" data-model="kimi-k2.6">fail</td>', dom)
    assert {"CHAT004", "CHNK002"} <= set(re.findall(r'<section class="check-group[^"]*" id="group-(\w+)"', dom))
    assert dom.count('class="finding-group"') >= 2
    assert '<form id="filters">' in dom  # the script ran and showed the filters
    shown = re.search(r'<output id="filter-count">(\d+) finding\(s\) shown</output>', dom)
    assert shown is not None and int(shown.group(1)) == len(ran.results["findings"])
    screenshot = ran.folder / "report.png"
    shot = headless(f"--screenshot={screenshot}", "--window-size=1280,2000", page)
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    target = os.environ.get("KIMI_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(target) / "report.png")
