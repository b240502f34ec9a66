"""`kimi-conformance` as a child process, from a folder of the test's own: what the baseline, exit-code and action
tests run. A run against the embedded mock with `QUICK` and one suite module takes a few seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUICK = ("--model", "kimi-k2.6", "--profile", "quick")
"""One model, the quick profile: with `test_chat.py` a run of 16 tests."""
FAULT_A, FAULT_B = "created-in-milliseconds", "model-not-echoed"
"""Two faults whose findings are errors in `test_chat.py`: A makes CHAT015 on every completion (a timestamp in each
message, different in every run), B one CHAT001 besides (the first exchange of each test still fails on A)."""


@dataclass(frozen=True, slots=True)
class Ran:
    """What a command did: its exit code, its output, and the report folder a run wrote (None: it wrote none)."""

    code: int
    output: str
    folder: Path | None

    @property
    def results(self) -> dict[str, Any]:
        assert self.folder is not None, self.output[-3000:]
        data: dict[str, Any] = json.loads((self.folder / "results.json").read_text("utf-8"))
        return data


def _latest(reports: Path) -> Path | None:
    latest = reports / "latest"
    return latest.resolve() if latest.is_dir() else None


def kimi(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Ran:
    """`kimi-conformance ARGS` run from `cwd`; a run's folder is the one `reports/latest` newly points at."""
    before = _latest(cwd / "reports")
    command = [sys.executable, "-m", "kimi_conformance", *args]
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    after = _latest(cwd / "reports")
    return Ran(done.returncode, done.stdout + done.stderr, after if after != before else None)


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Ran:
    """`kimi-conformance run --report-dir reports ARGS` from `cwd`."""
    return kimi(cwd, "run", "--report-dir", "reports", *args, env=env)
