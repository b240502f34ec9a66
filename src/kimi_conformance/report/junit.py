"""JUnit XML: one test case per check (failures carry every finding), so CI shows checks, not test functions."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kimi_conformance.checks import CHECKS
from kimi_conformance.report.results import RunResult


def render_junit(result: RunResult) -> str:
    """Failures are the checks with a blocking finding (`findings.blocks`) the baseline does not know; errors the
    checks that crashed. A check whose blocking findings are all known passes, with them in its output."""
    summaries = result.per_check()
    crashes = result.crashes
    suite = ET.Element(
        "testsuite",
        name="kimi-conformance",
        tests=str(len(summaries)),
        failures=str(sum(1 for s in summaries if s.verdict == "failed")),
        errors=str(sum(1 for s in summaries if s.verdict == "crashed")),
        skipped=str(sum(1 for s in summaries if s.verdict == "not-run")),
        time=f"{result.finished_at - result.started_at:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="target", value=result.target)
    ET.SubElement(properties, "property", name="verdict", value=result.verdict)
    for name in ("requests", "tokens", "estimated_cost_usd"):
        if name in result.spending:
            ET.SubElement(properties, "property", name=name, value=str(result.spending[name]))
    if result.budget_reached:
        ET.SubElement(properties, "property", name="stopped_early", value=result.budget_reached)
    split = result.split
    if result.baseline is not None and split is not None:
        ET.SubElement(properties, "property", name="baseline", value=f"{result.baseline.path}: {split.counts()}")
    for summary in summaries:
        check = CHECKS.get(summary.code)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"kimi-conformance.{summary.code}",
            name=f"{summary.code} {check.name if check else ''}".strip(),
        )
        if summary.verdict == "not-run":
            ET.SubElement(case, "skipped", message="no exchange this check applies to")
            continue
        if summary.verdict == "crashed":
            lines = [o.crash_line() for o in crashes if o.code == summary.code]
            message = f"the check crashed {summary.crashed} time(s): the tool erred, not the target"
            ET.SubElement(case, "error", message=message).text = "\n".join(lines)
        if summary.findings:
            known = [f for f in summary.findings if summary.known(f)]
            others = [f for f in summary.findings if not summary.known(f)]
            text = "\n\n".join(f.render() for f in others)
            if known:
                text += ("\n\n" if text else "") + "Known from the baseline (not failures):\n\n"
                text += "\n\n".join(f.render() for f in known)
            if summary.verdict == "failed":
                title = check.title if check else summary.code
                ET.SubElement(case, "failure", message=f"{len(others)} finding(s): {title}").text = text
            else:
                ET.SubElement(case, "system-out").text = text
    root = ET.Element("testsuites")
    root.append(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
