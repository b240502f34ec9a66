"""Provider comparison: several runs' results.json side by side — a matrix of checks x targets with pass rates
and findings, and per target its verdict, findings by severity, requests, tokens and estimated cost; then, against
the first run, each later run's new findings (blocking, with a fingerprint the first run has no finding of) and its
fixed ones, matched by fingerprint as baselines match them. Rendered as Markdown and as one self-contained HTML
page; `kimi-conformance compare` exits 1 when a later run has new findings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import Any

from kimi_conformance.report.fingerprint import Fingerprint, fingerprint
from kimi_conformance.report.html import render_matrix
from kimi_conformance.report.matrix import NOT_APPLICABLE, Matrix, MatrixRow
from kimi_conformance.report.recorded import RecordedRun, load_run

__all__ = ["ComparedRun", "Regression", "label_runs", "load_run", "regressions", "render_compare_html",
           "render_compare_markdown"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ComparedRun:
    """One run's results, under the label its column gets."""

    label: str
    data: dict[str, Any]

    def check(self, code: str) -> dict[str, Any] | None:
        return next((c for c in self.data.get("checks", []) if c.get("code") == code), None)

    def findings(self, code: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.data.get("findings", []):
            if finding.get("code") == code:
                counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class Regression:
    """A later run against the first: its blocking findings whose fingerprint the first run has no finding of
    (with how many findings share each), and the first run's blocking fingerprints it no longer has."""

    label: str
    new: tuple[tuple[Fingerprint, int], ...]
    fixed: tuple[Fingerprint, ...]


def regressions(runs: list[ComparedRun]) -> list[Regression]:
    """Each run after the first, against the first (the reference), by fingerprint (`report/fingerprint.py`)."""
    if len(runs) < 2:
        return []
    reference = RecordedRun.of(runs[0].data, runs[0].label)
    seen = {fingerprint(f) for f in reference.findings}
    failing = sorted({fingerprint(f) for f in reference.blocking})
    found = []
    for run in runs[1:]:
        recorded = RecordedRun.of(run.data, run.label)
        blocking = Counter(fingerprint(f) for f in recorded.blocking)
        present = {fingerprint(f) for f in recorded.findings}
        new = tuple(sorted((fp, n) for fp, n in blocking.items() if fp not in seen))
        found.append(Regression(run.label, new, tuple(fp for fp in failing if fp not in present)))
    return found


def label_runs(runs: list[dict[str, Any]], labels: list[str] | None = None) -> list[ComparedRun]:
    """Column labels: given ones, else the target (plus its mock faults), made unique with the run id."""
    names = []
    for index, data in enumerate(runs):
        if labels and index < len(labels):
            names.append(labels[index])
            continue
        faults = data.get("settings", {}).get("mock_faults") or []
        names.append(str(data.get("target", "?")) + (f" ({', '.join(faults)})" if faults else ""))
    return [
        ComparedRun(name if names.count(name) == 1 else f"{name} [{data.get('run_id', index)}]", data)
        for index, (name, data) in enumerate(zip(names, runs, strict=True))
    ]


def _rate(check: dict[str, Any] | None) -> str:
    if check is None:
        return "–"
    judged = int(check.get("passed", 0)) + int(check.get("failed", 0))
    return "–" if judged == 0 else f"{100 * int(check['passed']) / judged:.0f}% of {judged}"


def _codes(runs: list[ComparedRun]) -> list[tuple[str, str, str]]:
    """(code, title, severity) of every check any run knows."""
    seen: dict[str, tuple[str, str, str]] = {}
    for run in runs:
        for check in run.data.get("checks", []):
            seen.setdefault(check["code"], (check["code"], check.get("title", ""), check.get("severity", "")))
    return [seen[code] for code in sorted(seen)]


def summary_rows(runs: list[ComparedRun]) -> list[tuple[str, list[str]]]:
    """(row name, one cell per run) for the head of the comparison."""

    def spent(run: ComparedRun, key: str) -> Any:
        return run.data.get("spending", {}).get(key, "–")

    def cost(run: ComparedRun) -> str:
        value = spent(run, "estimated_cost_usd")
        unpriced = spent(run, "unpriced_models") or []
        text = f"${value:.4f}" if isinstance(value, int | float) else "–"
        return text + (" (some models unpriced)" if unpriced and unpriced != "–" else "")

    findings = [run.data.get("summary", {}).get("findings", {}) for run in runs]
    return [
        ("verdict", [str(run.data.get("verdict", "?")) for run in runs]),
        ("checks passed", [_checks_passed(run) for run in runs]),
        (
            "findings: error / warning / info",
            [f"{f.get('error', 0)} / {f.get('warning', 0)} / {f.get('info', 0)}" for f in findings],
        ),
        ("check outcomes", [str(run.data.get("summary", {}).get("outcomes", "–")) for run in runs]),
        ("requests", [str(spent(run, "requests")) for run in runs]),
        ("tokens", [str(spent(run, "tokens")) for run in runs]),
        ("estimated cost", [cost(run) for run in runs]),
        ("duration", [f"{run.data.get('duration_s', 0):.1f} s" for run in runs]),
        ("run", [str(run.data.get("run_id", "?")) for run in runs]),
    ]


def _checks_passed(run: ComparedRun) -> str:
    verdicts = [c.get("verdict") for c in run.data.get("checks", [])]
    judged = [v for v in verdicts if v != "not-run"]
    return f"{judged.count('passed')} of {len(judged)}" if judged else "–"


_STATES = ("passed", "failed", "known", "warned", "crashed", "not-run")


def _cell_text(run: ComparedRun, code: str) -> tuple[str, str]:
    """(text, state) of one matrix cell; state is passed, failed, warned, crashed or not-run."""
    check = run.check(code)
    counts = run.findings(code)
    text = _rate(check)
    if counts:
        text += " · " + ", ".join(f"{n} {severity}" for severity, n in sorted(counts.items()))
    verdict = str(check.get("verdict")) if check is not None else "not-run"
    return text, verdict if verdict in _STATES else "passed"  # the run's own verdict (`findings.blocks`)


def model_matrix(runs: list[ComparedRun]) -> Matrix | None:
    """The runs' model x check matrices side by side: a column per run and model (`label · model`), a row per
    check judged somewhere; None when no run's results.json carries a matrix (written before it had one)."""
    matrices = [(run.label, Matrix.from_json(run.data["matrix"])) for run in runs if run.data.get("matrix")]
    if not matrices:
        return None
    columns = [(label, model) for label, matrix in matrices for model in matrix.models]
    cells: dict[str, dict[tuple[str, str], str]] = {}
    titles: dict[str, tuple[str, str]] = {}
    for label, matrix in matrices:
        for row in matrix.rows:
            titles.setdefault(row.code, (row.title, row.severity))
            for model, state in zip(matrix.models, row.cells, strict=True):
                cells.setdefault(row.code, {})[(label, model)] = state
    rows = tuple(
        MatrixRow(code, *titles[code], tuple(cells[code].get(column, NOT_APPLICABLE) for column in columns))
        for code in sorted(cells)
    )
    return Matrix(tuple(f"{label} · {model or 'no model'}" for label, model in columns), rows)


def _model_matrix_markdown(runs: list[ComparedRun]) -> list[str]:
    matrix = model_matrix(runs)
    if matrix is None or not matrix.judged_rows():
        return []
    icons = {"pass": "✅", "warn": "⚠️", "fail": "❌", "n/a": "·", "not offered": "➖"}
    rows = sorted(matrix.judged_rows(), key=lambda r: ("fail" not in r.cells, "warn" not in r.cells, r.code))
    lines = ["", "## Checks x models", "", "| check | " + " | ".join(_md(m) for m in matrix.models) + " |"]
    lines.append("|---|" + ":---:|" * len(matrix.models))
    lines += [
        f"| `{row.code}` {_md(row.title)} | " + " | ".join(icons.get(c, c) for c in row.cells) + " |" for row in rows
    ]
    lines += ["", "✅ pass · ⚠️ warn · ❌ fail · `·` not applicable · ➖ not offered"]
    return lines


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_compare_markdown(runs: list[ComparedRun]) -> str:
    head = "| | " + " | ".join(_md(run.label) for run in runs) + " |"
    rule = "|---|" + "---|" * len(runs)
    lines = ["# kimi-conformance: provider comparison", "", head, rule]
    lines += [f"| **{name}** | " + " | ".join(cells) + " |" for name, cells in summary_rows(runs)]
    lines += ["", "## Checks", "", "| check | " + " | ".join(_md(r.label) for r in runs) + " |", rule]
    icons = {"passed": "✅", "failed": "❌", "known": "📌", "warned": "⚠️", "crashed": "💥", "not-run": "➖"}
    for code, title, _ in _codes(runs):
        cells = [f"{icons[state]} {text}" for text, state in (_cell_text(run, code) for run in runs)]
        lines.append(f"| `{code}` {_md(title)} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: share of check outcomes passed (of those the check could judge), then findings by severity."]
    lines += _model_matrix_markdown(runs)
    found = regressions(runs)
    if found:
        lines += ["", f"## Against {_md(runs[0].label)}", ""]
        for regression in found:
            lines.append(f"**{_md(regression.label)}**: {len(regression.new)} new, {len(regression.fixed)} fixed")
            lines += [f"- new: `{fp.id}` {_md(fp.line())} ({n} finding(s))" for fp, n in regression.new]
            lines += [f"- fixed: `{fp.id}` {_md(fp.line())}" for fp in regression.fixed]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24}h1{font-size:1.5em}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
th{background:#f6f8fa;position:sticky;top:0}td.passed{background:#dafbe1}td.failed{background:#ffebe9}
td.warned,td.known,td.cell-warn{background:#fff8c5}td.cell-pass{background:#dafbe1}td.cell-fail{background:#ffebe9}
td.cell-na,td.cell-not-offered{color:#6e7781}td.crashed{background:#ffd8b5}td.not-run{color:#6e7781}code{font-family:ui-monospace,monospace}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.incomplete{color:#9a6700;font-weight:600}
"""


def render_compare_html(runs: list[ComparedRun]) -> str:
    head = "".join(f"<th>{escape(run.label)}</th>" for run in runs)
    summary = "".join(
        f"<tr><th>{escape(name)}</th>"
        + "".join(f'<td class="{escape(cell) if name == "verdict" else ""}">{escape(cell)}</td>' for cell in cells)
        + "</tr>"
        for name, cells in summary_rows(runs)
    )
    matrix = "".join(
        f"<tr><td><code>{escape(code)}</code> {escape(title)} <small>({escape(severity)})</small></td>"
        + "".join(f'<td class="{state}">{escape(text)}</td>' for text, state in (_cell_text(r, code) for r in runs))
        + "</tr>"
        for code, title, severity in _codes(runs)
    )
    against = "".join(
        f"<h3>{escape(r.label)}: {len(r.new)} new, {len(r.fixed)} fixed</h3><ul>"
        + "".join(f"<li>new: <code>{escape(fp.id)}</code> {escape(fp.line())} ({n} finding(s))</li>" for fp, n in r.new)
        + "".join(f"<li>fixed: <code>{escape(fp.id)}</code> {escape(fp.line())}</li>" for fp in r.fixed)
        + "</ul>"
        for r in regressions(runs)
    )
    if against:
        against = f"<h2>Against {escape(runs[0].label)}</h2>{against}"
    by_model = model_matrix(runs)
    models = "" if by_model is None else "<h2>Checks x models</h2>" + render_matrix(by_model, "Checks x models")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>kimi-conformance comparison</title>"
        f"<style>{_STYLE}</style></head><body><h1>kimi-conformance: provider comparison</h1>"
        f"<table><tr><th></th>{head}</tr>{summary}</table>"
        f"<h2>Checks</h2><table><tr><th>check</th>{head}</tr>{matrix}</table>"
        "<p>Cells: share of check outcomes passed (of those the check could judge), then findings by severity."
        f"</p>{models}{against}</body></html>\n"
    )
