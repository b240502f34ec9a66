"""The GitHub Action (`action.yml`), run here: its script steps in order, each with the environment the runner gives
it (the step's `env` with the inputs filled in, `GITHUB_ACTION_PATH`, and `GITHUB_STEP_SUMMARY` and
`GITHUB_OUTPUT` pointed at temporary files), against the reference mock served on loopback with an API key of its
own. What is checked is what a job shows: the exit code, the step summary, the annotations, the outputs, and
that the key is written nowhere. Three action runs of `test_chat.py` (quick, one model): about 20 s."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kimi_conformance.mock import MockConfig, serve_in_thread
from tests.kimi_cli import FAULT_A, FAULT_B, kimi

ROOT = Path(__file__).resolve().parents[1]
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
INPUT = re.compile(r"\$\{\{\s*inputs\.([a-z0-9-]+)\s*\}\}")
KEY = "sk-action-test-key-5f0c1e7a9b"


@dataclass(frozen=True, slots=True)
class Job:
    """What the action's steps did."""

    code: int
    log: str
    summary: str
    outputs: dict[str, str]

    def annotations(self, kind: str) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith(f"::{kind} ")]


def run_action(workspace: Path, **inputs: str) -> Job:
    """The action's steps with these inputs (the others at their defaults), from `workspace`."""
    declared = ACTION["inputs"]
    assert set(inputs) <= set(declared), set(inputs) - set(declared)
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()} | inputs
    summary, outputs = workspace / "step-summary.md", workspace / "github-output.txt"
    summary.write_text("", "utf-8")
    outputs.write_text("", "utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # setup-python's Python first
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
    }
    log, code = "", 0
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"].split("@")[0] in ("actions/setup-python", "actions/upload-artifact"), step
            continue
        step_env = {name: INPUT.sub(lambda m: values[m[1]], str(value)) for name, value in step.get("env", {}).items()}
        assert "${{" not in "".join(step_env.values()) + step["run"], step
        done = subprocess.run(
            ["bash", "-c", step["run"]], cwd=workspace, env={**env, **step_env}, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        log += done.stdout + done.stderr
        code = done.returncode
        if code:
            break
    pairs = (line.partition("=") for line in outputs.read_text("utf-8").splitlines())
    return Job(code, log, summary.read_text("utf-8"), {name: value for name, _, value in pairs})


def test_the_action_is_composite_with_script_steps_and_uploads_the_report_folder() -> None:
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    assert [s.get("uses", "").split("@")[0] for s in steps if "uses" in s] == [
        "actions/setup-python",
        "actions/upload-artifact",
    ]
    assert all(s["run"].startswith('bash "$GITHUB_ACTION_PATH/action/') for s in steps if "run" in s)
    upload = steps[-1]
    assert upload["with"]["path"] == "${{ steps.run.outputs.report-folder }}" and "!cancelled()" in upload["if"]
    assert {o["value"] for o in ACTION["outputs"].values()} == {
        f"${{{{ steps.run.outputs.{name} }}}}" for name in ACTION["outputs"]
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("action")


def serve(*faults: str) -> Any:
    return serve_in_thread(MockConfig(api_keys=frozenset({KEY}), faults=frozenset(faults)))


def inputs(base_url: str, **more: str) -> dict[str, str]:
    return {"target": base_url, "api-key": KEY, "models": "kimi-k2.6", "args": "test_chat.py", **more}


@pytest.fixture(scope="module")
def baseline(workspace: Path) -> Path:
    """The action run against the mock with fault A, no baseline: it fails on every finding, one annotation per
    fingerprint; its report folder makes the baseline."""
    with serve(FAULT_A) as mock:
        job = run_action(workspace, **inputs(mock.api_base))
    assert job.code == 1, job.log[-3000:]
    assert "kimi-conformance: installed from this checkout already" in job.log  # install.sh, on this machine
    errors = job.annotations("error")
    assert len(errors) == 1 and errors[0].startswith("::error title=CHAT015 created is not the Unix time in seconds")
    assert job.outputs["new-findings"] == "15" and job.outputs["verdict"] == "fail"
    (workspace / "ci").mkdir()
    created = kimi(workspace, "baseline", "create", job.outputs["report-folder"], "-o", "ci/known.toml")
    assert created.code == 0, created.output
    return workspace / "ci" / "known.toml"


def test_a_new_fault_fails_the_step_annotating_only_its_finding(workspace: Path, baseline: Path) -> None:
    with serve(FAULT_A, FAULT_B) as mock:
        job = run_action(workspace, **inputs(mock.api_base, baseline="ci/known.toml"))
    assert job.code == 1, job.log[-3000:]
    errors = job.annotations("error")
    assert len(errors) == 1, errors
    assert errors[0].startswith("::error title=CHAT001 Completion identity fields wrong (1 finding(s)%2C new)::")
    assert "createChatCompletion kimi-k2.6: Received: model " in errors[0]
    assert job.outputs == {
        "exit-code": "1",
        "verdict": "fail",
        "report-folder": job.outputs["report-folder"],
        "new-findings": "1",
        "known-findings": "15",
        "fixed": "0",
    }
    assert job.summary.startswith("# kimi-conformance: ❌ **fail**")
    assert "Baseline `ci/known.toml`: **1 new**, 15 known, 0 fixed" in job.summary
    assert job.summary.rstrip().endswith("Exit code 1: new blocking findings (or a test that failed without one).")
    folder = workspace / job.outputs["report-folder"]
    written = [job.log, job.summary, *(p.read_text("utf-8", "replace") for p in folder.rglob("*") if p.is_file())]
    assert (folder / "cassette.jsonl").is_file() and not any(KEY in text for text in written)  # redacted by value


def test_the_fault_removed_passes_and_notes_the_fixed_entry_on_its_line(workspace: Path, baseline: Path) -> None:
    with serve() as mock:
        job = run_action(workspace, **inputs(mock.api_base, baseline="ci/known.toml"))
    assert job.code == 0, job.log[-3000:]
    assert not job.annotations("error") and job.outputs["fixed"] == "1" and job.outputs["verdict"] == "pass"
    line = baseline.read_text("utf-8").splitlines().index("[[finding]]") + 1
    notices = job.annotations("notice")
    assert len(notices) == 1 and notices[0].startswith(f"::notice file=ci/known.toml,line={line},title=fixed")
    assert "## Fixed (baseline entries no finding matched)" in job.summary


def test_a_usage_error_is_summarised_without_a_report(workspace: Path) -> None:
    job = run_action(workspace, baseline="ci/no-such-baseline.toml", args="test_models.py")
    assert job.code == 4, job.log[-3000:]
    assert "The run wrote no report: exit code 4 (usage error" in job.summary
    assert job.outputs["report-folder"] == "" and job.outputs["verdict"] == "none"
