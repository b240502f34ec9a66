"""The reports at a glance, in process: findings grouped by check and subject, the model x check matrix (in
results.json, the HTML and Markdown reports and `compare`), hostile target text inert in the HTML, and the Markdown
report within GitHub's 1 MiB step-summary cap however large the run."""

from __future__ import annotations

import json
import re
from importlib import resources

from jsonschema import Draft202012Validator

from kimi_conformance.checks import CheckContext, Outcome, Status, run_checks
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Evidence, Finding, Severity
from kimi_conformance.report import RunResult
from kimi_conformance.report.compare import label_runs, render_compare_html, render_compare_markdown
from kimi_conformance.report.groups import group_findings
from kimi_conformance.report.html import render_html
from kimi_conformance.report.markdown import MAX_BYTES, render_markdown
from kimi_conformance.report.matrix import model_of_test

CHAT = "POST /v1/chat/completions"


def finding(
    code: str, model: str, message: str, stream: bool = False, operation: str = "createChatCompletion"
) -> Finding:
    request = f'{CHAT} model="{model}"' + (" stream=true" if stream else "")
    return Finding(
        code,
        "n",
        f"title of {code}",
        Severity.ERROR,
        "#/x",
        operation,
        message,
        request,
        Evidence(200, {}, "{}"),
        "curl x",
    )


def failed(f: Finding, test: str) -> Outcome:
    return Outcome(f.code, f.operation, Status.FAILED, f, test)


def passed(code: str, test: str, operation: str = "createChatCompletion") -> Outcome:
    return Outcome(code, operation, Status.PASSED, None, test)


def two_model_run() -> RunResult:
    outcomes = [
        failed(finding("CHAT004", "kimi-k2.6", f"Received: total {n}"), f"t::a[kimi-k2.6-{n}]") for n in range(5)
    ]
    outcomes += [failed(finding("CHAT004", "kimi-k2.6", "Received: total 9", stream=True), "t::s[kimi-k2.6]")]
    outcomes += [passed("CHAT004", "t::a[kimi-k3]"), passed("CHAT001", "t::a[kimi-k3]")]
    outcomes += [passed("CHAT001", "t::a[kimi-k2.6]"), passed("MODL001", "t::models", "listModels")]
    return RunResult(
        "run-g", "mock", {}, outcomes, 1.0, 2.0,
        models={"exercised": ["kimi-k2.6", "kimi-k3"], "not_offered": []},
        operations={"exercised": ["models", "chat"], "not_offered": ["files"], "reasons": {}, "declared": False},
    )  # fmt: skip


def test_findings_group_by_check_then_subject_with_one_example() -> None:
    result = two_model_run()
    checks = group_findings(result.findings)
    assert [c.code for c in checks] == ["CHAT004"] and checks[0].count == 6
    groups = checks[0].groups
    assert [(g.subject.model, g.subject.stream, g.count) for g in groups] == [
        ("kimi-k2.6", False, 5),
        ("kimi-k2.6", True, 1),
    ]
    assert groups[0].example.message == "Received: total 0" and len(groups[0].rest) == 4
    # with a baseline, the new finding is the example and its group comes first
    states = ["known"] * 5 + ["new"]
    first = group_findings(result.findings, states)[0].groups[0]
    assert first.subject.stream and first.example_state == "new"


def test_the_matrix_is_model_by_check_from_the_outcomes() -> None:
    result = two_model_run()
    matrix = result.matrix()
    assert matrix.models == ("kimi-k2.6", "kimi-k3", "")
    cells = {row.code: dict(zip(matrix.models, row.cells, strict=True)) for row in matrix.rows}
    assert cells["CHAT004"] == {"kimi-k2.6": "fail", "kimi-k3": "pass", "": "n/a"}
    assert cells["CHAT001"] == {"kimi-k2.6": "pass", "kimi-k3": "pass", "": "n/a"}
    assert cells["MODL001"][""] == "pass" and cells["FILE001"]["kimi-k2.6"] == "not offered"
    assert model_of_test("t::x[kimi-k2.6-plain]", ["kimi-k2", "kimi-k2.6"]) == "kimi-k2.6"
    assert model_of_test("t::x", ["kimi-k2.6"]) == ""
    data = result.as_json()
    schema = json.loads((resources.files("kimi_conformance.report") / "results.schema.json").read_text())
    Draft202012Validator(schema).validate(data)
    assert data["matrix"]["models"] == ["kimi-k2.6", "kimi-k3", ""]


def test_html_shows_the_matrix_the_groups_and_filters_without_needing_a_script() -> None:
    page = render_html(two_model_run())
    assert page.index('id="matrix"') < page.index('class="check-group')
    assert re.search(r'<tr data-code="CHAT004"><th>.*?</th><td class="cell-fail" data-model="kimi-k2.6">fail', page)
    assert page.count('class="finding-group"') == 2 and "5 finding(s)" in page and "4 more like it" in page
    assert '<form id="filters" hidden>' in page and 'data-model="kimi-k2.6"' in page
    assert "http://" not in page and "https://" not in page and "<link" not in page and " src=" not in page


def test_hostile_target_text_is_inert_in_the_html() -> None:
    hostile = Exchange(
        operation="listModels", method="GET", url="http://127.0.0.1:1/v1/models", request_headers={}, status=500,
        response_headers={"content-type": "text/html"}, body=b'<script>alert("x")</script><img src=x onerror=alert(1)>',
    )  # fmt: skip
    outcomes = run_checks(CheckContext(), hostile, {"HTTP002", "ERR001"}, "t::x")
    page = render_html(RunResult("run-h", "mock", {}, outcomes, 1.0, 2.0))
    assert page.count("<script") == 1  # ours, the filters
    assert "&lt;script&gt;alert" in page and "<img" not in page


def test_markdown_keeps_within_the_step_summary_cap() -> None:
    # 4,000 checks failing on 5 operations each: the groups alone are about 2 MB of Markdown
    outcomes = [
        failed(finding(f"ZZ{i:04d}", "kimi-k2.6", f"Received: {n}", operation=f"operation{n}"), f"t::a[kimi-k2.6-{n}]")
        for i in range(4000)
        for n in range(5)
    ]
    models = {"exercised": ["kimi-k2.6"], "not_offered": []}
    text = render_markdown(RunResult("run-big", "mock", {}, outcomes, 1.0, 2.0, models=models))
    assert len(text.encode("utf-8")) < MAX_BYTES
    found = re.search(r"\*\*(\d+) more groups in report.html\*\*", text)
    assert found is not None and 0 < int(found.group(1)) < 4000
    first_screen = text[: text.index("## Findings")]
    assert "## Checks x models" in first_screen and "| `ZZ0000`  | ❌ |" in first_screen
    assert "3900 more failing checks in report.html" in first_screen
    assert text.index("## Findings") < text.index("## Checks\n")
    assert text.count("```text") == 10  # the first groups' examples in full, the rest one line per subject


def test_compare_puts_the_model_matrices_side_by_side() -> None:
    good, bad = two_model_run().as_json(), two_model_run().as_json()
    good["matrix"]["rows"] = [{**r, "cells": dict.fromkeys(r["cells"], "pass")} for r in good["matrix"]["rows"]]
    runs = label_runs([good, bad], ["ours", "theirs"])
    markdown = render_compare_markdown(runs)
    assert "| check | ours · kimi-k2.6 | ours · kimi-k3 | ours · no model | theirs · kimi-k2.6 |" in markdown
    assert "| `CHAT004` title of CHAT004 | ✅ | ✅ | ✅ | ❌ | ✅ | · |" in markdown.replace(
        "Usage arithmetic wrong", "title of CHAT004"
    )
    page = render_compare_html(runs)
    assert 'id="matrix"' in page and "theirs · kimi-k2.6" in page and "<script" not in page
