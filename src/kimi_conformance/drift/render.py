"""Spec-drift changes rendered for people and machines: a table, JSON, Markdown and JUnit (one case per rule)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from kimi_conformance.drift.spec_diff import SPEC_RULES, Change
from kimi_conformance.findings import printable

FAIL_ON = ("breaking", "any", "none")


def gates(change: Change, fail_on: str) -> bool:
    """Whether `change` fails the comparison under `--fail-on`."""
    return fail_on == "any" or (fail_on == "breaking" and change.rule.breaking)


def render_table(changes: list[Change]) -> str:
    if not changes:
        return "no changes\n"
    lines = [f"{c.rule.id}  {'BREAKING' if c.rule.breaking else 'ok      '}  {c.rule.severity:7}  "
             f"{c.rule.name:34} {c.pointer}  {c.detail}" for c in changes]  # fmt: skip
    breaking = sum(c.rule.breaking for c in changes)
    lines.append(f"{len(changes)} change(s), {breaking} breaking")
    return "\n".join(lines) + "\n"


def render_json(changes: list[Change], old: str, new: str) -> str:
    document = {
        "old": old,
        "new": new,
        "summary": {"changes": len(changes), "breaking": sum(c.rule.breaking for c in changes)},
        "changes": [c.as_json() for c in changes],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_markdown(changes: list[Change], old: str, new: str) -> str:
    breaking = sum(c.rule.breaking for c in changes)
    lines = [f"# Spec drift: `{old}` → `{new}`", "", f"{len(changes)} change(s), **{breaking} breaking**.", ""]
    if changes:
        lines += ["| rule | kind | severity | where | what |", "|---|---|---|---|---|"]
        for c in changes:
            kind = "breaking" if c.rule.breaking else "non-breaking"
            detail, where = c.detail.replace("|", "\\|"), c.pointer.replace("|", "\\|")  # a title may hold one
            lines.append(f"| `{c.rule.id}` {c.rule.name} | {kind} | {c.rule.severity} | `{where}` | {detail} |")
    return "\n".join(lines) + "\n"


def render_junit(changes: list[Change], fail_on: str) -> str:
    """One test case per rule: failed when a change of that rule gates under `--fail-on`."""
    suite = ET.Element("testsuite", name="kimi-conformance drift spec", tests=str(len(SPEC_RULES)))
    failures = 0
    for rule in SPEC_RULES.values():
        case = ET.SubElement(suite, "testcase", classname="kimi-conformance.drift", name=f"{rule.id} {rule.name}")
        mine = [c for c in changes if c.rule is rule]
        text = printable("\n".join(f"{c.pointer}  {c.detail}" for c in mine))
        if mine and any(gates(c, fail_on) for c in mine):
            failures += 1
            ET.SubElement(case, "failure", message=f"{len(mine)} change(s): {rule.title}").text = text
        elif mine:
            ET.SubElement(case, "system-out").text = text
    suite.set("failures", str(failures))
    return ET.tostring(suite, encoding="unicode") + "\n"
