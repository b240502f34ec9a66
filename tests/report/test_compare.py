"""`kimi-conformance compare`: several runs on one page (Markdown and self-contained HTML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kimi_conformance.cli import cli
from kimi_conformance.findings import Evidence, Finding, Severity
from kimi_conformance.report.compare import label_runs, regressions, render_compare_html, render_compare_markdown


def finding(code: str, message: str = "Received: 2 choices\nExpected: 3 for n=3") -> dict[str, Any]:
    request = 'POST /v1/chat/completions model="kimi-k2.6"'
    made = Finding(
        code, "n", "t", Severity.ERROR, "#/x", "createChatCompletion", message, request, Evidence(200), "", ""
    )
    return made.as_json()


def results(target: str, verdict: str, passed: int, failed: int, findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "run_id": f"run-{target}",
        "target": target,
        "settings": {"mock_faults": []},
        "verdict": verdict,
        "duration_s": 1.5,
        "summary": {"outcomes": passed + failed, "findings": {"error": len(findings), "warning": 0, "info": 0}},
        "checks": [
            {"code": "CHAT002", "title": "Choices do not match `n`", "severity": "error",
             "verdict": "failed" if failed else "passed", "passed": passed, "failed": failed, "not_applicable": 0},
            {"code": "SSE003", "title": "Stream not terminated by [DONE]", "severity": "error",
             "verdict": "not-run", "passed": 0, "failed": 0, "not_applicable": 4},
        ],
        "findings": findings,
        "spending": {"requests": 12, "tokens": 345, "estimated_cost_usd": 0.0012, "unpriced_models": []},
    }  # fmt: skip


def write(folder: Path, data: dict[str, Any]) -> Path:
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(data))
    return folder


def test_matrix_of_checks_by_target(tmp_path: Path) -> None:
    good = write(tmp_path / "good", results("https://api.moonshot.ai/v1", "pass", 4, 0, []))
    bad = write(tmp_path / "bad", results("http://gateway/v1", "fail", 3, 1, [finding("CHAT002")]))
    html = tmp_path / "compare.html"
    result = CliRunner().invoke(cli, ["compare", str(good), str(bad), "--html", str(html)])
    assert result.exit_code == 1, result.output  # the second run has a finding the first does not
    assert "**http://gateway/v1**: 1 new, 0 fixed" in result.output and "new: `CHAT002-" in result.output
    assert "| | https://api.moonshot.ai/v1 | http://gateway/v1 |" in result.output
    assert "| `CHAT002` Choices do not match `n` | ✅ 100% of 4 | ❌ 75% of 4 · 1 error |" in result.output
    assert "| **estimated cost** | $0.0012 | $0.0012 |" in result.output
    assert "| `SSE003` Stream not terminated by [DONE] | ➖ – | ➖ – |" in result.output
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page and 'class="failed">75% of 4' in page


def test_labels_make_columns_distinct() -> None:
    runs = label_runs([results("mock", "pass", 1, 0, []), results("mock", "pass", 1, 0, [])])
    assert [r.label for r in runs] == ["mock [run-mock]", "mock [run-mock]"]
    assert [r.label for r in label_runs([results("mock", "pass", 1, 0, [])], ["ours"])] == ["ours"]
    assert "ours" in render_compare_markdown(label_runs([results("mock", "pass", 1, 0, [])], ["ours"]))
    assert "<table>" in render_compare_html(runs)


def test_a_folder_without_results_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["compare", str(tmp_path)])
    assert result.exit_code == 4 and "not a run folder with a readable results.json" in result.output


def test_new_findings_are_matched_by_fingerprint_not_by_message(tmp_path: Path) -> None:
    one = finding("CHAT002", "Received: 2 choices\nExpected: 3 for n=3")
    same = finding("CHAT002", "Received: 1 choices\nExpected: 4 for n=4")  # the same defect, other numbers
    other = finding("CHAT004", "Received: total 38 for prompt 13 + completion 24\nExpected: total 37")
    first = write(tmp_path / "a", results("mock", "fail", 3, 1, [one]))
    second = write(tmp_path / "b", results("mock", "fail", 3, 1, [same]))
    third = write(tmp_path / "c", results("mock", "fail", 3, 1, [same, other]))
    runner = CliRunner()
    assert runner.invoke(cli, ["compare", str(first), str(second)]).exit_code == 0
    worse = runner.invoke(cli, ["compare", str(first), str(second), str(third)])
    assert worse.exit_code == 1 and "new findings against the first run: mock [run-mock]: 1" in worse.output
    assert runner.invoke(cli, ["compare", str(first), str(third), "--fail-on", "none"]).exit_code == 0
    runs = label_runs([results("mock", "fail", 3, 1, [one, other]), results("gw", "pass", 4, 0, [])])
    [regression] = regressions(runs)
    assert not regression.new and sorted(fp.code for fp in regression.fixed) == ["CHAT002", "CHAT004"]
