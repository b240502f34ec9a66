"""Schemathesis, run from our contract against the running mock, finds nothing (positive and negative
generation, every operation, schemathesis' default checks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kimi_conformance.contract import contract_path
from kimi_conformance.mock import DEFAULT_API_KEY, MockServer

HOOKS = "tests.contract.schemathesis_hooks"
ROOT = Path(__file__).resolve().parents[2]


def schemathesis_cli() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("schemathesis is not installed next to this Python (pip install -e '.[test]')")
    return [found]


def test_schemathesis_finds_nothing(mock_server: MockServer, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    command = [
        *schemathesis_cli(),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        str(contract_path()),
        "--url",
        mock_server.base_url,
        "--header",
        f"Authorization: Bearer {DEFAULT_API_KEY}",
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "25",
        "--generation-deterministic",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=False)
    tail = "\n".join(result.stdout.splitlines()[-120:])
    assert result.returncode == 0, f"schemathesis reported failures:\n{tail}\n{result.stderr[-2000:]}"
    suites = ET.parse(report).getroot()
    assert int(suites.get("tests", "0")) >= 13, "every operation must have been tested"
