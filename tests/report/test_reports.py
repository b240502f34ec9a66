"""Reports: one RunResult rendered as results.json (valid against its versioned schema), JUnit, Markdown, HTML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

from jsonschema import Draft202012Validator

from kimi_conformance.checks import CheckContext, run_checks
from kimi_conformance.exchange import Exchange
from kimi_conformance.report import RunResult, write_reports


def failing_exchange() -> Exchange:
    return Exchange(
        operation="listModels",
        method="GET",
        url="http://127.0.0.1:1/v1/models",
        request_headers={"authorization": "[REDACTED]"},
        status=500,
        response_headers={"content-type": "text/html"},
        body=b"<html>Bad Gateway\x1a\x00</html>",  # control characters must not break the XML
    )


def result(strict: bool = False) -> RunResult:
    outcomes = run_checks(
        CheckContext(), failing_exchange(), {"HTTP001", "HTTP002", "ERR001", "ERR003", "MODL001"}, "t::x"
    )
    return RunResult("run-1", "mock", {"profile": "quick"}, outcomes, 100.0, 101.5, strict=strict, tests={"failed": 1})


def test_results_json_follows_its_schema(tmp_path: Path) -> None:
    folder = write_reports(result(), tmp_path)
    data = json.loads((folder / "results.json").read_text())
    schema = json.loads((resources.files("kimi_conformance.report") / "results.schema.json").read_text())
    Draft202012Validator(schema).validate(data)
    assert data["verdict"] == "fail"
    assert {f["code"] for f in data["findings"]} == {"HTTP002", "ERR001", "ERR003"}
    assert (tmp_path / "latest").resolve() == folder.resolve()


def test_junit_has_one_case_per_check(tmp_path: Path) -> None:
    root = ET.parse(write_reports(result(), tmp_path) / "junit.xml").getroot()
    cases = {case.get("name", "").split()[0]: case for case in root.iter("testcase")}
    assert cases["HTTP002"].find("failure") is not None
    assert cases["HTTP001"].find("skipped") is None and cases["HTTP001"].find("failure") is None
    assert cases["MODL001"].find("skipped") is not None  # not applicable to a 500: not run


def test_markdown_and_html_show_findings(tmp_path: Path) -> None:
    folder = write_reports(result(), tmp_path)
    markdown = (folder / "report.md").read_text()
    assert markdown.startswith("# kimi-conformance: ❌ **fail**") and "### `HTTP002` Server error" in markdown
    html = (folder / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "<details>" in html and "http://" not in html.split("<body>")[0]
    assert "&lt;html&gt;Bad Gateway" in html  # evidence is escaped, not rendered
