"""The grouped findings as HTML, and the filters over them.

Plain HTML first: a section per check (`.check-group`), in it a block per subject (`.finding-group`) with its count,
one example in full (the request, what came back and what was expected, the evidence, the spec pointer, the replay
line: open for the check's first subject, folded for the others, so the page stays one screen per check) and the
rest in a `<details>`, readable without JavaScript. Each block carries `data-severity`, `data-model`,
`data-operation` and `data-baseline`; the filter controls are hidden until the inline script shows them, and the
script only hides blocks whose attributes do not match. Every text is escaped: findings carry what a target sent.
"""

from __future__ import annotations

from html import escape

from kimi_conformance.checks import CHECKS
from kimi_conformance.findings import Finding
from kimi_conformance.report.groups import CheckGroup, FindingGroup

MAX_REST_SHOWN = 100
"""Findings listed under "the rest" of one group; results.json has them all."""

FILTER_STYLE = """
.check-group{border-left:4px solid #d0d7de;padding-left:1em;margin:1.2em 0}.check-group.sev-error{border-color:#cf222e}
.check-group.sev-warning{border-color:#d4a72c}.finding-group{margin:.6em 0 1em}.count{font-weight:600}
.badge{display:inline-block;border-radius:1em;padding:0 .6em;margin-left:.3em;font-size:.85em;background:#eaeef2}
.badge.new{background:#ffebe9}.badge.known{background:#fff8c5}dl.example{display:grid;grid-template-columns:8em 1fr;
gap:.2em 1em;margin:.4em 0}dl.example dt{font-weight:600}dl.example dd{margin:0}dl.example pre{margin:0}
table.matrix td{text-align:center}td.cell-pass{background:#dafbe1}td.cell-fail{background:#ffebe9;font-weight:600}
td.cell-warn{background:#fff8c5}td.cell-na{color:#6e7781}td.cell-not-offered{color:#6e7781;background:#f6f8fa}
caption{text-align:left;font-weight:600;padding:.3em 0}#filters{margin:1em 0}#filters label{margin-right:1em}
[hidden]{display:none!important}
"""

FILTER_SCRIPT = """
(function () {
  var form = document.getElementById("filters");
  if (!form) { return; }
  form.hidden = false;
  function apply() {
    var want = {};
    form.querySelectorAll("select").forEach(function (s) { want[s.name] = s.value; });
    var shown = 0;
    document.querySelectorAll(".finding-group").forEach(function (g) {
      var ok = Object.keys(want).every(function (k) {
        return !want[k] || (" " + (g.dataset[k] || "") + " ").indexOf(" " + want[k] + " ") >= 0;
      });
      g.hidden = !ok;
      if (ok) { shown += Number(g.dataset.count); }
    });
    document.querySelectorAll(".check-group").forEach(function (c) {
      c.hidden = !c.querySelector(".finding-group:not([hidden])");
    });
    document.getElementById("filter-count").textContent = shown + " finding(s) shown";
  }
  form.addEventListener("change", apply);
  apply();
})();
"""


def _select(name: str, label: str, values: list[tuple[str, str]]) -> str:
    options = "".join(f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in values)
    return f'<label>{escape(label)} <select name="{name}"><option value="">all</option>{options}</select></label>'


def render_filters(checks: list[CheckGroup]) -> str:
    """The filter controls: hidden without JavaScript (they would do nothing), shown by the script."""
    groups = [group for check in checks for group in check.groups]
    severities = sorted({check.severity.value for check in checks})
    models = sorted({group.subject.model for group in groups})
    operations = sorted({group.subject.operation for group in groups})
    states = [state for state in ("new", "known") if any(state in group.states for group in groups)]
    controls = [
        _select("severity", "severity", [(s, s) for s in severities]),
        _select("model", "model", [(m or "none", m or "no model") for m in models]),
        _select("operation", "operation", [(o, o) for o in operations]),
    ]
    if states:
        controls.append(_select("baseline", "baseline", [(s, s) for s in states]))
    return f'<form id="filters" hidden>{"".join(controls)}<output id="filter-count"></output></form>'


def _example(finding: Finding) -> str:
    check = CHECKS.get(finding.code)
    evidence = finding.evidence
    rows = [
        ("Request", f"<code>{escape(finding.request)}</code>"),
        ("Test", f"<code>{escape(finding.test)}</code>"),
        ("Found", f"<pre>{escape(finding.message)}</pre>"),
    ]
    if evidence.status is not None:
        rows.append(("Evidence", f"<pre>HTTP {evidence.status}  {escape(evidence.excerpt[:2000])}</pre>"))
    rows.append(("Spec", f"<code>openapi/moonshot.openapi.yaml{escape(finding.spec)}</code>"))
    if check is not None:
        rows.append(("Rule", escape(check.doc) + (f" <small>({escape(check.fact)})</small>" if check.fact else "")))
    rows.append(("Replay", f"<pre>{escape(finding.replay)}</pre>"))
    return '<dl class="example">' + "".join(f"<dt>{t}</dt><dd>{d}</dd>" for t, d in rows) + "</dl>"


def _badges(states: tuple[str, ...]) -> str:
    return "".join(f'<span class="badge {state}">{state}</span>' for state in states)


def _group(check: CheckGroup, group: FindingGroup, expanded: bool) -> str:
    """One subject's block; `expanded` (the check's first subject) shows its example open, the others fold it."""
    subject = group.subject
    rest = group.rest
    listed = "".join(f"<pre>{escape(f.render())}</pre>" for f, _ in rest[:MAX_REST_SHOWN])
    if len(rest) > MAX_REST_SHOWN:
        listed += f"<p>... and {len(rest) - MAX_REST_SHOWN} more in results.json</p>"
    more = f"<details><summary>{len(rest)} more like it</summary>{listed}</details>" if rest else ""
    example = _example(group.example)
    if not expanded:
        example = f'<details class="example"><summary>example</summary>{example}</details>'
    return (
        f'<div class="finding-group" data-severity="{check.severity.value}" '
        f'data-model="{escape(subject.model or "none")}" data-operation="{escape(subject.operation)}" '
        f'data-baseline="{" ".join(group.baseline_states) or "none"}" data-count="{group.count}">'
        f'<h4>{escape(subject.label())}: <span class="count">{group.count} finding(s)</span>'
        f"{_badges(group.baseline_states)}</h4>{example}{more}</div>"
    )


def render_groups(checks: list[CheckGroup]) -> str:
    """Every check's section, its subjects' blocks in it."""
    return "".join(
        f'<section class="check-group sev-{check.severity.value}" id="group-{escape(check.code)}" '
        f'data-code="{escape(check.code)}"><h3><code>{escape(check.code)}</code> {escape(check.title)} '
        f"({check.severity.value}{', ' + ', '.join(check.baseline_states) if check.baseline_states else ''}): "
        f"{check.count} finding(s) in {len(check.groups)} group(s){_badges(check.baseline_states)}</h3>"
        + "".join(_group(check, group, index == 0) for index, group in enumerate(check.groups))
        + "</section>"
        for check in checks
    )
