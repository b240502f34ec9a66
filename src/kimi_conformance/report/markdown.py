"""Markdown: the verdict, the model x check matrix and the top finding groups first, then the rest; within GitHub's
1 MiB cap on a step summary (`MAX_BYTES`: what does not fit is counted, "N more groups in report.html")."""

from __future__ import annotations

from kimi_conformance.checks import CHECKS
from kimi_conformance.fidelity import CLASSES, percent
from kimi_conformance.redaction import redact
from kimi_conformance.report.groups import CheckGroup, group_findings
from kimi_conformance.report.matrix import Matrix, MatrixRow
from kimi_conformance.report.results import RunResult

_ICONS = {"passed": "✅", "failed": "❌", "known": "📌", "warned": "⚠️", "crashed": "💥", "not-run": "➖"}
MAX_BYTES = 1024 * 1024
"""GitHub's cap on a job's step summary."""
_BUDGET = MAX_BYTES - 16 * 1024
"""What the report may fill before its closing note (kept under the cap with room to spare)."""
EXAMPLES_SHOWN = 10
"""Check groups whose first subject is shown in full (request, evidence, spec, replay); the others in one line."""
MATRIX_ROWS_SHOWN = 100
"""Failing or warning checks the Markdown matrix lists (report.html has them all)."""
_CELLS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "n/a": "·", "not offered": "➖"}


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


def render_matrix(matrix: Matrix) -> list[str]:
    """The checks that fail or warn somewhere, a column per model; those that pass (or are not applicable, not
    offered) on every model below, folded."""
    rows = matrix.judged_rows()
    if not rows:
        return []
    counts = " · ".join(f"{n} {state}" for state, n in matrix.counts().items() if n)
    head = [
        "| check | " + " | ".join(f"`{m}`" if m else "no model" for m in matrix.models) + " |",
        "|---|" + ":---:|" * len(matrix.models),
    ]
    failing = [row for row in rows if "fail" in row.cells or "warn" in row.cells]
    failing.sort(key=lambda r: "fail" not in r.cells)
    quiet = [row for row in rows if row not in failing]

    def table(chosen: list[MatrixRow]) -> list[str]:
        return head + [
            f"| `{row.code}` {_cell(row.title)} | " + " | ".join(_CELLS.get(c, c) for c in row.cells) + " |"
            for row in chosen
        ]

    lines = [f"## Checks x models ({counts})", ""]
    lines += [*table(failing[:MATRIX_ROWS_SHOWN]), ""] if failing else ["No check fails or warns on any model.", ""]
    if len(failing) > MATRIX_ROWS_SHOWN:
        lines += [f"... and {len(failing) - MATRIX_ROWS_SHOWN} more failing checks in report.html", ""]
        quiet = []
    if quiet:
        lines += [f"<details><summary>{len(quiet)} checks pass on every model they judged</summary>", ""]
        lines += [*table(quiet), "", "</details>", ""]
    lines += ["✅ pass · ⚠️ warn · ❌ fail · `·` not applicable · ➖ not offered", ""]
    return lines


def _heading(check: CheckGroup) -> str:
    states = ", " + ", ".join(check.baseline_states) if check.baseline_states else ""
    return (
        f"### `{check.code}` {_cell(check.title)} ({check.severity.value}{states}): {check.count} finding(s), "
        f"{len(check.groups)} subject(s)"
    )


def _group_lines(check: CheckGroup, full: bool) -> list[str]:
    """A check's group: its subjects with their counts, and with `full` the first subject's example."""
    lines = [_heading(check), ""]
    lines += [
        f"- {_cell(g.subject.label())}: {g.count}" + (f" ({', '.join(g.baseline_states)})" if g.baseline_states else "")
        for g in check.groups[:20]
    ]
    if len(check.groups) > 20:
        lines.append(f"- ... and {len(check.groups) - 20} more subjects in report.html")
    if full:
        example = check.groups[0].example
        registered = CHECKS.get(example.code)
        lines += [
            "",
            f"{example.operation} · `{example.request}`" + (f" · {registered.doc}" if registered else ""),
            "",
            "```text",
            example.message[:2000],
            f"Evidence: HTTP {example.evidence.status} {example.evidence.excerpt[:300]}",
            f"Spec:     openapi/moonshot.openapi.yaml{example.spec}",
            f"Replay:   {example.replay[:500]}",
            "```",
        ]
    return [*lines, ""]


def render_markdown(result: RunResult) -> str:
    data = result.as_json()
    summary = data["summary"]
    verdict = {"fail": "❌ **fail**", "incomplete": "⏸️ **incomplete**", "error": "💥 **error**"}.get(
        result.verdict, "✅ **pass**"
    )
    groups = group_findings(result.findings, [d.get("baseline") for d in data["findings"]])
    lines = [
        f"# kimi-conformance: {verdict}",
        "",
        f"Verdict: {result.verdict_reason}.",
        "",
        f"Target `{result.target}` · run `{result.run_id}` · {data['duration_s']:.1f} s · "
        f"{summary['outcomes']} check outcomes · findings: {summary['findings']['error']} error, "
        f"{summary['findings']['warning']} warning, {summary['findings']['info']} info"
        + (f" in {sum(len(c.groups) for c in groups)} groups of {len(groups)} checks" if groups else "")
        + (" · strict" if result.strict else ""),
        "",
        *render_matrix(result.matrix()),
        *([f"Spent: {result.spending_line()}", ""] if result.spending else []),
        *([f"Models: {result.models_line()}", ""] if result.models else []),
        *([f"Operations: {result.operations_line()}", ""] if result.operations else []),
        *([f"Account: {result.account_line()}", ""] if result.account else []),
        *([f"Model behaviour: {_pass_at_k(data['pass_at_k'])}", ""] if data["pass_at_k"] else []),
        *_baseline(result),
    ]
    if result.crashes:
        lines += ["## Crashed checks (the tool erred)", ""]
        lines += [f"- {_cell(o.crash_line())} (`{o.test}`)" for o in result.crashes[:50]] + [""]
    tail = ["## Checks", "", "| | code | check | severity | passed | failed | n/a |"]
    tail.append("|---|---|---|---|---:|---:|---:|")
    for check in data["checks"]:
        tail.append(
            f"| {_ICONS[check['verdict']]} | `{check['code']}` | {_cell(check['title'] or check['name'])} | "
            f"{check['severity']} | {check['passed']} | {check['failed']} | {check['not_applicable']} |"
        )
    tail += _fidelity(result)
    if result.not_run:
        tail += ["", f"## Not run ({len(result.not_run)})", "", *(f"- `{test}`" for test in result.not_run[:200])]
        if len(result.not_run) > 200:
            tail.append(f"- ... and {len(result.not_run) - 200} more in results.json")
    used = sum(len(line.encode("utf-8")) + 1 for line in lines + tail)
    if groups:
        lines += ["## Findings", ""]
    left = 0
    for index, check in enumerate(groups):
        block = [redact(line) for line in _group_lines(check, full=index < EXAMPLES_SHOWN)]
        size = sum(len(line.encode("utf-8")) + 1 for line in block)
        if used + size > _BUDGET:
            left = len(groups) - index
            break
        lines += block
        used += size
    if left:
        lines += [f"**{left} more groups in report.html** (this summary stops within GitHub's 1 MiB cap).", ""]
    text = "\n".join(redact(line) for line in lines + tail) + "\n"
    if len(text.encode("utf-8")) > _BUDGET:  # the tail alone (a huge not-run list, many checks) overflows
        text = text.encode("utf-8")[:_BUDGET].decode("utf-8", "ignore") + "\n\n... cut at 1 MiB; see report.html\n"
    return text
