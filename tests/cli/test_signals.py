"""SIGTERM to `kimi-conformance run` stops its pytest child too (no orphan): what the run created is removed, and
the reports of what ran are kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_sigterm_stops_the_child_and_keeps_the_reports(tmp_path: Path) -> None:
    marker = f"reports-{os.getpid()}-{time.monotonic_ns()}"
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", marker]  # the whole suite: ~30 s
    run = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:  # wait until tests are running (dots printed)
        if _children(marker):
            time.sleep(8)  # collected, and some tests ran
            break
        time.sleep(0.2)
    run.send_signal(signal.SIGTERM)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 2, output[-2000:]  # interrupted: incomplete
    assert _children(marker) == [], "the pytest child outlived its parent"
    results = json.loads((tmp_path / marker / "latest" / "results.json").read_text("utf-8"))
    assert results["summary"]["outcomes"] > 0 and "Traceback" not in output
    assert results["verdict"] == "incomplete" and "interrupted (SIGINT)" in results["verdict_reason"]
    assert results["account"]["files"]["left"] == [] and results["account"]["batches"]["running"] == []


def _children(marker: str) -> list[str]:
    """Processes running pytest with this run's report folder on their command line."""
    listed = subprocess.run(["ps", "-eww", "-o", "pid,args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in listed if marker in line and "pytest" in line]
