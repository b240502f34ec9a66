"""`kimi-conformance run suites/test_fidelity.py` end to end against the embedded mock: the conformant mock scores
100 % for each model, streamed and not; each fault that breaks tool calls lowers the score with the right class; the
gate fails the run with one line; `-n 2` gives exactly the serial run's fidelity."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from kimi_conformance.fidelity import corpus
from kimi_conformance.profiles import FIDELITY_SCHEMAS

ROOT = Path(__file__).resolve().parents[2]
SUITE = str(ROOT / "suites" / "test_fidelity.py")
MODELS = ("--profile", "quick", "--model", "kimi-k2.6", "--model", "kimi-k3")
PER_MODE = FIDELITY_SCHEMAS["quick"]


def run(folder: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", *MODELS, *args, SUITE]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    results = json.loads((folder / "reports" / "latest" / "results.json").read_text())
    return done.returncode, results, done.stdout + done.stderr


def test_the_conformant_mock_scores_100_percent_per_model_streamed_and_not(tmp_path: Path) -> None:
    code, results, output = run(tmp_path, "--min-schema-accuracy", "100")
    assert code == 0 and results["verdict"] == "pass", output[-3000:]
    models = results["fidelity"]["models"]
    assert set(models) == {"kimi-k2.6", "kimi-k3"}
    for name, entry in models.items():
        assert entry["schema_accuracy"] == 1.0 and entry["classes"]["ok"] == 2 * PER_MODE, name
        for mode in ("json", "stream"):
            counts = entry["modes"][mode]
            assert (counts["answers"], counts["finish_tool_calls"], counts["valid_tool_calls"]) == (PER_MODE,) * 3
        assert entry["worst"] == []
    assert models["kimi-k2.6"]["tool_choice"] == {"named": 2 * PER_MODE}  # thinking off: a forced named call
    assert models["kimi-k3"]["tool_choice"] == {"auto": 2 * PER_MODE}  # always thinks: auto, the prompt names it
    assert results["fidelity"]["gate"] == {"min_schema_accuracy": 100, "passed": True, "below": []}
    assert "fidelity kimi-k3: schema_accuracy 100.00 % (20/20 answers ending in tool_calls valid" in output
    assert "fidelity gate --min-schema-accuracy 100: passed" in output
    report = (tmp_path / "reports" / "latest" / "report.md").read_text()
    assert "| `kimi-k2.6` | 100.00 % | 20 / 20 | 100.00 % | 100.00 % | 20 |" in report


def test_broken_arguments_lower_the_score_classified_and_xdist_gives_the_serial_tally(tmp_path: Path) -> None:
    """Required properties dropped (every answer) and the last streamed fragment lost: the JSON answers of schemas
    with a required property are schema violations, every stream is invalid JSON; the same with -n 2 and serially."""
    faults = ("--mock-fault", "tool-args-missing-required", "--mock-fault", "stream-tool-args-fragment-lost")
    parallel = run(tmp_path / "n2", "-n", "2", *faults)
    serial = run(tmp_path / "n0", "-n", "0", *faults)
    with_required = sum(bool(case.parameters.get("required")) for case in corpus(PER_MODE))
    assert 0 < with_required < PER_MODE
    for code, results, output in (parallel, serial):
        assert code == 1 and "CHAT009" in {f["code"] for f in results["findings"]}, output[-3000:]
        for entry in results["fidelity"]["models"].values():
            json_mode, stream = entry["modes"]["json"], entry["modes"]["stream"]
            assert json_mode["classes"]["schema_violation"] == with_required
            assert json_mode["classes"]["ok"] == PER_MODE - with_required
            assert stream["classes"]["invalid_json"] == PER_MODE and stream["schema_accuracy"] == 0.0
            assert entry["schema_accuracy"] == (PER_MODE - with_required) / (2 * PER_MODE)
            assert [e["class"] for e in entry["worst"]] == ["invalid_json"] * 5
            assert all(e["stream"] and "arguments are no JSON" in e["detail"] for e in entry["worst"])
    assert parallel[1]["fidelity"] == serial[1]["fidelity"]


def test_markup_instead_of_a_call_scores_zero_and_the_gate_alone_fails_the_run(tmp_path: Path) -> None:
    """Only one check judged (`--checks HTTP001`), so nothing but the gate can fail the run."""
    code, results, output = run(
        tmp_path, "--mock-fault", "tool-call-markup-unparsed", "--min-schema-accuracy", "90", "--checks", "HTTP001"
    )
    assert code == 1 and results["verdict"] == "fail" and results["findings"] == [], output[-3000:]
    assert results["verdict_reason"].startswith("tool-call fidelity below --min-schema-accuracy 90: kimi-k2.6:")
    for name, entry in results["fidelity"]["models"].items():
        assert entry["schema_accuracy"] == 0.0 and entry["classes"]["no_tool_call"] == 2 * PER_MODE, name
        assert entry["finish_tool_calls"] == 2 * PER_MODE and entry["valid_tool_calls"] == 0
        assert all("tool-call markup" in example["detail"] for example in entry["worst"])
    gate = results["fidelity"]["gate"]
    assert gate["passed"] is False and gate["below"] == [
        "kimi-k2.6: schema_accuracy 0.00 % (0/20) is below 90 %",
        "kimi-k3: schema_accuracy 0.00 % (0/20) is below 90 %",
    ]
    assert "fidelity gate --min-schema-accuracy 90: FAILED: kimi-k2.6: schema_accuracy 0.00 %" in output
    assert "verdict FAIL (tool-call fidelity below --min-schema-accuracy 90" in output
