"""Markdown: a verdict, a table of checks, and each finding; short enough for a CI step summary."""

from __future__ import annotations

from kimi_conformance.checks import CHECKS
from kimi_conformance.fidelity import CLASSES, percent
from kimi_conformance.report.results import RunResult

_ICONS = {"passed": "✅", "failed": "❌", "known": "📌", "warned": "⚠️", "crashed": "💥", "not-run": "➖"}
MAX_FINDINGS_SHOWN = 50


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _pass_at_k(summary: dict[str, dict[str, int]]) -> str:
    return " · ".join(
        f"`{code}` pass@1 {s['pass_at_1']}/{s['cases']}"
        + (f", pass@{s['k']} {s['pass_at_k']}/{s['cases']}" if s["k"] > 1 else "")
        for code, s in summary.items()
    )


def _fidelity(result: RunResult) -> list[str]:
    """The tool-call fidelity section: per model, K2VV's schema_accuracy (streamed and not), the answers of each
    class, the gate, and the worst answers."""
    fidelity = result.fidelity
    if not fidelity:
        return []
    lines = [
        "",
        "## Tool-call fidelity (K2VV schema_accuracy)",
        "",
        "| model | schema_accuracy | valid / tool_calls | json | stream | " + " | ".join(CLASSES) + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(CLASSES),
    ]
    for model, entry in fidelity["models"].items():
        modes = entry["modes"]
        lines.append(
            f"| `{model}` | {percent(entry['schema_accuracy'])} | {entry['valid_tool_calls']} / "
            f"{entry['finish_tool_calls']} | {percent(modes['json']['schema_accuracy'])} | "
            f"{percent(modes['stream']['schema_accuracy'])} | "
            + " | ".join(str(entry["classes"][name]) for name in CLASSES)
            + " |"
        )
    if result.min_schema_accuracy is not None:
        below = result.below_gate
        verdict = "❌ failed: " + "; ".join(below) if below else "✅ passed"
        lines += ["", f"Gate `--min-schema-accuracy {result.min_schema_accuracy:g}`: {_cell(verdict)}"]
    worst = [(model, example) for model, entry in fidelity["models"].items() for example in entry["worst"]]
    if worst:
        lines += ["", "Worst answers:", ""]
        lines += [
            f"- `{model}` **{e['class']}** ({'stream' if e['stream'] else 'json'}, `{e['case']}`): "
            f"{_cell(e['detail'])} (`{e['test']}`)"
            for model, e in worst
        ]
    return lines


def _baseline(result: RunResult) -> list[str]:
    """With `--baseline`: the counts, then the new fingerprints, the fixed entries and those not checked."""
    split, baseline = result.split, result.baseline
    if split is None or baseline is None:
        return []
    unreasoned = f" · {baseline.without_reason} entries without a reason" if baseline.without_reason else ""
    lines = [
        f"Baseline `{baseline.path}`: **{len(split.new)} new**, {len(split.known)} known, {len(split.fixed)} fixed, "
        f"{len(split.unchecked)} not checked{unreasoned}",
        "",
    ]
    sections = [
        ("New findings (not in the baseline: these fail the run)", split.new_fingerprints()),
        ("Fixed (baseline entries no finding matched)", [(e.fingerprint, 0) for e in split.fixed]),
        ("Not checked (the run never judged their check there)", [(e.fingerprint, 0) for e in split.unchecked]),
    ]
    for title, rows in sections:
        if rows:
            lines += [f"## {title}", ""]
            lines += [f"- `{fp.id}` {_cell(fp.line())}" + (f" ({n} finding(s))" if n else "") for fp, n in rows[:100]]
            lines += [f"- ... and {len(rows) - 100} more in results.json"] if len(rows) > 100 else []
            lines.append("")
    return lines


def render_markdown(result: RunResult) -> str:
    data = result.as_json()
    summary = data["summary"]
    verdict = {"fail": "❌ **fail**", "incomplete": "⏸️ **incomplete**", "error": "💥 **error**"}.get(
        result.verdict, "✅ **pass**"
    )
    lines = [
        f"# kimi-conformance: {verdict}",
        "",
        f"Verdict: {result.verdict_reason}.",
        "",
        f"Target `{result.target}` · run `{result.run_id}` · {data['duration_s']:.1f} s · "
        f"{summary['outcomes']} check outcomes · findings: {summary['findings']['error']} error, "
        f"{summary['findings']['warning']} warning, {summary['findings']['info']} info"
        + (" · strict" if result.strict else ""),
        "",
        *([f"Spent: {result.spending_line()}", ""] if result.spending else []),
        *([f"Models: {result.models_line()}", ""] if result.models else []),
        *([f"Operations: {result.operations_line()}", ""] if result.operations else []),
        *([f"Account: {result.account_line()}", ""] if result.account else []),
        *([f"Model behaviour: {_pass_at_k(data['pass_at_k'])}", ""] if data["pass_at_k"] else []),
        *_baseline(result),
        "| | code | check | severity | passed | failed | n/a |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for check in data["checks"]:
        lines.append(
            f"| {_ICONS[check['verdict']]} | `{check['code']}` | {_cell(check['title'] or check['name'])} | "
            f"{check['severity']} | {check['passed']} | {check['failed']} | {check['not_applicable']} |"
        )
    lines += _fidelity(result)
    if result.crashes:
        lines += ["", "## Crashed checks (the tool erred)", ""]
        lines += [f"- {_cell(o.crash_line())} (`{o.test}`)" for o in result.crashes[:50]]
    findings = result.findings
    states = {id(f): state for f, state in zip(findings, (d.get("baseline") for d in data["findings"]), strict=True)}
    findings = sorted(findings, key=lambda f: states[id(f)] != "new")  # with a baseline, the new ones first
    if findings:
        lines += ["", "## Findings", ""]
        for finding in findings[:MAX_FINDINGS_SHOWN]:
            check = CHECKS.get(finding.code)
            state = f", {states[id(finding)]}" if states[id(finding)] else ""
            lines += [
                f"### `{finding.code}` {_cell(finding.title)} ({finding.severity.value}{state})",
                "",
                f"{finding.operation} · `{finding.request}`" + (f" · {check.doc}" if check else ""),
                "",
                "```text",
                finding.message,
                f"Evidence: HTTP {finding.evidence.status} {finding.evidence.excerpt[:300]}",
                f"Spec:     openapi/moonshot.openapi.yaml{finding.spec}",
                f"Replay:   {finding.replay[:500]}",
                "```",
                "",
            ]
        if len(findings) > MAX_FINDINGS_SHOWN:
            lines.append(f"... and {len(findings) - MAX_FINDINGS_SHOWN} more in results.json")
    if result.not_run:
        lines += ["", f"## Not run ({len(result.not_run)})", "", *(f"- `{test}`" for test in result.not_run[:200])]
        if len(result.not_run) > 200:
            lines.append(f"- ... and {len(result.not_run) - 200} more in results.json")
    return "\n".join(lines) + "\n"
