"""`kimi-conformance baseline create|update RUN`: the known findings of a run, written for review, so that CI fails
only on new ones (`run --baseline FILE`)."""

from __future__ import annotations

from pathlib import Path

import click

from kimi_conformance.errors import ConfigError
from kimi_conformance.report.baseline import entries_of, read_baseline, render_baseline, updated
from kimi_conformance.report.recorded import RecordedRun

DEFAULT_FILE = "kimi-conformance-baseline.toml"


def _recorded(run: Path) -> RecordedRun:
    try:
        return RecordedRun.load(run)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
def baseline() -> None:
    """Known findings: a run fails only on findings its `--baseline FILE` does not list."""


@baseline.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", default=DEFAULT_FILE, show_default=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--force", is_flag=True, help="Replace an existing file (its reasons are lost; `update` keeps them).")
def create(run: Path, output: Path, force: bool) -> None:
    """Write a baseline of RUN's blocking findings, one entry per fingerprint, each with an empty `reason` for a
    person to fill. RUN is a report folder (reports/<run-id>, reports/latest) or its results.json."""
    recorded = _recorded(run)
    if output.exists() and not force:
        raise click.UsageError(
            f"{output} exists: `kimi-conformance baseline update {run} --baseline {output}` keeps its reasons "
            "(--force replaces it)"
        )
    entries = entries_of(recorded.blocking)
    output.write_text(render_baseline(entries, recorded.provenance()), "utf-8")
    click.echo(
        f"baseline {output}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} for the "
        f"{len(recorded.blocking)} blocking finding(s) of run {recorded.run_id}; review it and fill in each `reason`"
    )


@baseline.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--baseline",
    "baseline_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The baseline to bring up to date.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: the baseline)."
)
def update(run: Path, baseline_file: Path, output: Path | None) -> None:
    """Bring a baseline up to date with RUN: the entries RUN still meets keep their reason, RUN's new blocking
    findings are added (with an empty reason), the entries it shows fixed are dropped, and those it did not check
    (another suite, an excluded check) are kept. Each change is listed. RUN is a report folder or its results.json."""
    recorded = _recorded(run)
    try:
        known = read_baseline(baseline_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    change = updated(known, recorded.findings, recorded.strict, recorded.checked)
    written = output or baseline_file
    provenance = recorded.provenance().replace("From ", "Last updated from ", 1)
    written.write_text(render_baseline(change.entries, provenance), "utf-8")
    click.echo(
        f"baseline {written}: {len(change.entries)} entries; {len(change.added)} added, {len(change.dropped)} "
        f"dropped as fixed, {len(change.kept)} kept unchecked (run {recorded.run_id})"
    )
    for label, entries in (("added", change.added), ("fixed", change.dropped), ("not checked", change.kept)):
        for entry in entries:
            click.echo(f"  {label}: {entry.fingerprint.id}  {entry.fingerprint.line()}")
