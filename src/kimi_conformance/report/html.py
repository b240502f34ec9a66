"""A self-contained HTML report: the verdict, the model x check matrix, the findings grouped by check and subject
(one example expanded, the rest on demand), then the table of checks. One file, no server, no external assets; plain
HTML readable without JavaScript: the inline script only adds filters (severity, model, operation, new/known) by
hiding elements by their `data-` attributes. Every text is escaped, and the page passes `redact`."""

from __future__ import annotations

from html import escape

from kimi_conformance.fidelity import CLASSES, percent
from kimi_conformance.redaction import redact
from kimi_conformance.report.findings_html import FILTER_SCRIPT, FILTER_STYLE, render_filters, render_groups
from kimi_conformance.report.fingerprint import Fingerprint
from kimi_conformance.report.groups import group_findings
from kimi_conformance.report.matrix import Matrix, MatrixRow
from kimi_conformance.report.results import RunResult

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
th{background:#f6f8fa}.failed{background:#ffebe9}.passed{background:#dafbe1}.not-run{color:#6e7781}
.warned,.known{background:#fff8c5}.crashed{background:#ffd8b5}
.verdict-fail{color:#cf222e}.verdict-pass{color:#1a7f37}.verdict-incomplete{color:#9a6700}.verdict-error{color:#9a6700}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap}
details{margin:.5em 0}summary{cursor:pointer;font-weight:600}code{font-family:ui-monospace,monospace}
"""


def _not_run(result: RunResult) -> str:
    if not result.not_run:
        return ""
    listed = escape("\n".join(result.not_run))
    return f"<details><summary>Not run ({len(result.not_run)})</summary><pre>{listed}</pre></details>"


def _fidelity(result: RunResult) -> str:
    """Tool-call fidelity: K2VV's schema_accuracy per model, the classes, the gate, the worst answers."""
    fidelity = result.fidelity
    if not fidelity:
        return ""
    head = "".join(f"<th>{name}</th>" for name in CLASSES)
    rows = "".join(
        f'<tr class="{"passed" if entry["schema_accuracy"] == 1 else "failed"}"><td><code>{escape(model)}</code></td>'
        f"<td>{percent(entry['schema_accuracy'])}</td>"
        f"<td>{entry['valid_tool_calls']} / {entry['finish_tool_calls']}</td>"
        f"<td>{percent(entry['modes']['json']['schema_accuracy'])}</td>"
        f"<td>{percent(entry['modes']['stream']['schema_accuracy'])}</td>"
        + "".join(f"<td>{entry['classes'][name]}</td>" for name in CLASSES)
        + "</tr>"
        for model, entry in fidelity["models"].items()
    )
    gate = ""
    if result.min_schema_accuracy is not None:
        below = result.below_gate
        verdict = "failed: " + "; ".join(below) if below else "passed"
        gate = f"<p>Gate <code>--min-schema-accuracy {result.min_schema_accuracy:g}</code>: {escape(verdict)}</p>"
    worst = "".join(
        f"<li><code>{escape(model)}</code> <b>{escape(e['class'])}</b> ({'stream' if e['stream'] else 'json'}, "
        f"<code>{escape(e['case'])}</code>): {escape(e['detail'])} (<code>{escape(e['test'])}</code>)</li>"
        for model, entry in fidelity["models"].items()
        for e in entry["worst"]
    )
    return (
        "<h2>Tool-call fidelity (K2VV schema_accuracy)</h2><table><tr><th>model</th><th>schema_accuracy</th>"
        f"<th>valid / tool_calls</th><th>json</th><th>stream</th>{head}</tr>{rows}</table>{gate}"
        + (f"<details><summary>Worst answers</summary><ul>{worst}</ul></details>" if worst else "")
    )


def _baseline(result: RunResult) -> str:
    """With `--baseline`: the counts, the new fingerprints, the fixed entries and those not checked."""
    split, baseline = result.split, result.baseline
    if split is None or baseline is None:
        return ""

    def listed(title: str, rows: list[tuple[Fingerprint, int]]) -> str:
        items = "".join(
            f"<li><code>{escape(fp.id)}</code> {escape(fp.line())}{f' ({n} finding(s))' if n else ''}</li>"
            for fp, n in rows
        )
        return f"<h3>{escape(title)} ({len(rows)})</h3><ul>{items}</ul>" if rows else ""

    return (
        f"<h2>Baseline <code>{escape(baseline.path)}</code>: {escape(split.counts())}</h2>"
        + listed("New findings (not in the baseline: these fail the run)", split.new_fingerprints())
        + listed("Fixed (baseline entries no finding matched)", [(e.fingerprint, 0) for e in split.fixed])
        + listed("Not checked by this run", [(e.fingerprint, 0) for e in split.unchecked])
    )


def _matrix_rows(matrix: Matrix, rows: list[MatrixRow]) -> str:
    return "".join(
        f'<tr data-code="{escape(row.code)}"><th><code>{escape(row.code)}</code> {escape(row.title)} '
        f"<small>({escape(row.severity)})</small></th>"
        + "".join(
            f'<td class="cell-{state.replace(" ", "-").replace("/", "")}" data-model="{escape(model)}">'
            f"{escape(state)}</td>"
            for model, state in zip(matrix.models, row.cells, strict=True)
        )
        + "</tr>"
        for row in rows
    )


def render_matrix(matrix: Matrix, caption: str = "Checks x models") -> str:
    """The matrix as a plain table (`id="matrix"`): the checks failing or warning somewhere first, a column per
    model; the checks quiet on every model in a folded table below."""
    rows = matrix.judged_rows()
    if not rows:
        return ""
    head = "<tr><th>check</th>" + "".join(f"<th>{escape(m or 'no model')}</th>" for m in matrix.models) + "</tr>"
    loud = [row for row in rows if "fail" in row.cells or "warn" in row.cells]
    loud.sort(key=lambda r: "fail" not in r.cells)
    quiet = [row for row in rows if row not in loud]
    counts = " · ".join(f"{n} {state}" for state, n in matrix.counts().items() if n)
    table = (
        f'<table id="matrix" class="matrix"><caption>{escape(caption)}: {escape(counts)}</caption>{head}'
        + (
            _matrix_rows(matrix, loud)
            or f'<tr><td colspan="{len(matrix.models) + 1}">no check fails or warns</td></tr>'
        )
        + "</table>"
    )
    if quiet:
        table += (
            f"<details><summary>{len(quiet)} checks pass (or do not apply) on every model</summary>"
            f'<table class="matrix">{head}{_matrix_rows(matrix, quiet)}</table></details>'
        )
    return table


def render_html(result: RunResult) -> str:
    data = result.as_json()
    verdict = result.verdict
    rows = "".join(
        f'<tr class="{c["verdict"]}"><td><code>{escape(c["code"])}</code></td><td>{escape(c["name"])}</td>'
        f"<td>{escape(c['title'])}</td><td>{c['severity']}</td><td>{c['verdict']}</td>"
        f"<td>{c['passed']}</td><td>{c['failed']}</td><td>{c['not_applicable']}</td></tr>"
        for c in data["checks"]
    )
    groups = group_findings(result.findings, [d.get("baseline") for d in data["findings"]])
    findings_section = (
        f"<h2>Findings: {len(result.findings)} in {sum(len(c.groups) for c in groups)} groups of {len(groups)} "
        f"checks</h2>{render_filters(groups)}{render_groups(groups)}"
        if groups
        else "<p>No findings.</p>"
    )
    crashes = "".join(f"<li>{escape(o.crash_line())} (<code>{escape(o.test)}</code>)</li>" for o in result.crashes)
    crash_section = (
        f"<h2>Crashed checks: the tool erred ({len(result.crashes)})</h2><ul>{crashes}</ul>" if crashes else ""
    )
    summary = data["summary"]
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>kimi-conformance {escape(result.run_id)}</title><style>{_STYLE}{FILTER_STYLE}</style></head><body>"
        f'<h1>kimi-conformance: <span class="verdict-{verdict}">{verdict}</span></h1>'
        f"<p>{escape(result.verdict_reason)}.</p>"
        f"<p>Target <code>{escape(result.target)}</code> · run <code>{escape(result.run_id)}</code> · "
        f"{data['duration_s']:.1f} s · {summary['outcomes']} check outcomes · findings: "
        f"{summary['findings']['error']} error, {summary['findings']['warning']} warning, "
        f"{summary['findings']['info']} info</p>"
        + (f"<p>Spent: {escape(result.spending_line())}</p>" if result.spending else "")
        + (f"<p>Models: {escape(result.models_line())}</p>" if result.models else "")
        + (f"<p>Operations: {escape(result.operations_line())}</p>" if result.operations else "")
        + (f"<p>Account: {escape(result.account_line())}</p>" if result.account else "")
        + render_matrix(result.matrix())
        + _baseline(result)
        + crash_section
        + findings_section
        + _fidelity(result)
        + "<h2>Checks</h2><table><tr><th>code</th><th>name</th><th>title</th><th>severity</th><th>verdict</th>"
        f"<th>passed</th><th>failed</th><th>n/a</th></tr>{rows}</table>"
        + _not_run(result)
        + f"<script>{FILTER_SCRIPT}</script></body></html>\n"
    )
    return redact(page)
