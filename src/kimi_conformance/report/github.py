"""A run's reports as a GitHub Actions job shows them: the Markdown report as the step summary, an annotation per
new finding (one per fingerprint), per crashed check and per fixed baseline entry, and the step's outputs.

`python -m kimi_conformance.report.github --folder reports/<run-id> --exit-code N` is the action's last step
(`action/run.sh`); it reads only the report folder and the environment variables GitHub sets
(`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`, `GITHUB_WORKSPACE`), so it runs the same anywhere those point to files.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import blocks
from kimi_conformance.report.fingerprint import fingerprint
from kimi_conformance.report.recorded import RecordedRun, load_run
from kimi_conformance.report.results import EXIT_CODES

SUMMARY_LIMIT = 1_000_000
"""Bytes of Markdown a step summary may take (GitHub refuses more than 1 MiB)."""
MAX_ANNOTATIONS = 10
"""Annotations of each kind written; GitHub shows 10 errors and 10 warnings per step, the rest is in the report."""


def _data(text: str) -> str:
    """A workflow command's message, escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties: str | int) -> str:
    """`::error title=...::message` (kind: error, warning or notice)."""
    listed = ",".join(f"{name}={_property(str(value))}" for name, value in properties.items())
    return f"::{kind}{' ' + listed if listed else ''}::{_data(message)}"


def _new(data: dict[str, Any], recorded: RecordedRun) -> list[dict[str, Any]]:
    """The new fingerprints: the baseline's split, or without a baseline every blocking finding's, grouped."""
    if data.get("baseline"):
        return list(data["baseline"]["new_fingerprints"])
    grouped: dict[str, dict[str, Any]] = {}
    for finding in recorded.findings:
        if blocks(finding.severity, recorded.strict):
            fp = fingerprint(finding)
            entry = grouped.setdefault(fp.id, {"fingerprint": fp.id, **_fields(fp.key()), "findings": 0})
            entry["findings"] += 1
    return list(grouped.values())


def _fields(key: tuple[str, str, str, str]) -> dict[str, str]:
    return dict(zip(("code", "operation", "model", "subject"), key, strict=True))


def _examples(recorded: RecordedRun) -> dict[str, tuple[str, str]]:
    """Per fingerprint id, the first finding's title and test."""
    examples: dict[str, tuple[str, str]] = {}
    for finding in recorded.findings:
        examples.setdefault(fingerprint(finding).id, (finding.title, finding.test))
    return examples


def _entry_lines(path: Path) -> dict[tuple[str, str, str, str], int]:
    """The line of each `[[finding]]` header of a baseline file, per entry (empty when it cannot be read)."""
    try:
        text = path.read_text("utf-8")
        entries = tomllib.loads(text).get("finding", [])
    except (OSError, ValueError):
        return {}
    headers = [number for number, line in enumerate(text.split("\n"), 1) if re.match(r"\s*\[\[finding\]\]", line)]
    if len(headers) != len(entries):
        return {}
    keys = [tuple(str(e.get(k, "")) for k in ("code", "operation", "model", "subject")) for e in entries]
    return {(k[0], k[1], k[2], k[3]): line for k, line in zip(keys, headers, strict=True)}


def workflow_commands(data: dict[str, Any], workspace: Path) -> list[str]:
    """The workflow commands for a run's results.json: an error per new fingerprint and per crashed check, a
    warning when the run is incomplete, a notice per fixed baseline entry (on its line of the baseline file)."""
    recorded = RecordedRun.of(data)
    examples = _examples(recorded)
    lines = []
    new = _new(data, recorded)
    for entry in new[:MAX_ANNOTATIONS]:
        title, test = examples.get(entry["fingerprint"], ("", ""))
        where = " ".join(part for part in (entry["operation"], entry["model"]) if part)
        message = f"{where}: {entry['subject']}" + (f"\nfirst met in {test}" if test else "")
        heading = f"{entry['code']} {title}".strip() + f" ({entry['findings']} finding(s), new)"
        lines.append(command("error", message, title=heading))
    if len(new) > MAX_ANNOTATIONS:
        lines.append(command("error", f"... and {len(new) - MAX_ANNOTATIONS} more new findings: see the summary"))
    for crash in (data.get("crashes") or [])[:MAX_ANNOTATIONS]:
        lines.append(command("error", f"{crash['code']} crashed on {crash['operation']}: {crash['crash']}",
                             title="tool error: a check crashed"))  # fmt: skip
    if data.get("verdict") == "incomplete":
        lines.append(command("warning", str(data.get("verdict_reason", "")), title="kimi-conformance: incomplete"))
    baseline = data.get("baseline") or {}
    path = Path(baseline["file"]) if baseline.get("file") else None
    known_lines = _entry_lines(workspace / path) if path is not None else {}
    for entry in (baseline.get("fixed") or [])[:MAX_ANNOTATIONS]:
        key = (entry["code"], entry["operation"], entry["model"], entry["subject"])
        place: dict[str, str | int] = {"file": str(path), "line": known_lines[key]} if key in known_lines else {}
        where = " ".join(part for part in (entry["code"], entry["operation"], entry["model"]) if part)
        message = f"{where}: {entry['subject']}\nno finding matched it: `kimi-conformance baseline update` drops it"
        lines.append(command("notice", message, **place, title=f"fixed: {entry['code']} no longer occurs"))
    return lines


def outputs(data: dict[str, Any] | None, folder: Path | None, exit_code: int) -> dict[str, str]:
    """The step's outputs: the exit code, the verdict, the report folder, and the new/known/fixed counts."""
    baseline = (data or {}).get("baseline") or {}
    if data is None:
        new = 0
    elif baseline:
        new = int(baseline["new"])
    else:
        new = sum(int(entry["findings"]) for entry in _new(data, RecordedRun.of(data)))
    return {
        "exit-code": str(exit_code),
        "verdict": str((data or {}).get("verdict", "none")),
        "report-folder": str(folder) if folder is not None and data is not None else "",
        "new-findings": str(new),
        "known-findings": str(baseline.get("known", 0)),
        "fixed": str(len(baseline.get("fixed") or [])),
    }


def summary(folder: Path | None, exit_code: int) -> str:
    """The step summary: the run's report.md (cut to GitHub's limit), or why there is no report."""
    meaning = EXIT_CODES.get(exit_code, "an unexpected exit code")
    report = folder / "report.md" if folder is not None else None
    if report is None or not report.is_file():
        return f"# kimi-conformance: no report\n\nThe run wrote no report: exit code {exit_code} ({meaning}).\n"
    text = report.read_text("utf-8")
    encoded = text.encode("utf-8")
    if len(encoded) > SUMMARY_LIMIT:
        text = (
            encoded[:SUMMARY_LIMIT].decode("utf-8", "ignore")
            + "\n\n... cut here: the whole report is in the artifact.\n"
        )
    return text + f"\n---\nExit code {exit_code}: {meaning}.\n"


def publish(folder: Path | None, exit_code: int, environ: dict[str, str]) -> list[str]:
    """Append the summary to `GITHUB_STEP_SUMMARY` and the outputs to `GITHUB_OUTPUT` (when set); return the
    annotations to print."""
    data = load_run(folder) if folder is not None and (folder / "results.json").is_file() else None
    workspace = Path(environ.get("GITHUB_WORKSPACE") or ".")
    if environ.get("GITHUB_STEP_SUMMARY"):
        with open(environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as file:
            file.write(summary(folder, exit_code))
    if environ.get("GITHUB_OUTPUT"):
        with open(environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as file:
            file.writelines(f"{name}={value}\n" for name, value in outputs(data, folder, exit_code).items())
    return workflow_commands(data, workspace) if data is not None else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kimi_conformance.report.github", description=__doc__)
    parser.add_argument("--folder", type=Path, help="the run's report folder (none: the run wrote no report)")
    parser.add_argument("--exit-code", type=int, required=True, help="the run's exit code")
    args = parser.parse_args(argv)
    try:
        lines = publish(args.folder, args.exit_code, dict(os.environ))
    except ConfigError as exc:
        sys.stderr.write(f"kimi-conformance: {exc}\n")
        return 4
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
