"""`kimi-conformance selftest`: prove this installation catches every named fault of the mock and raises no
false alarm on the clean mock or a benign variation."""

from __future__ import annotations

import os

import click

from kimi_conformance.cli.run import suites_path
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.runner.selftest import (
    CaseResult,
    catalogue_cases,
    rule_faults,
    run_catalogue,
    run_rule_faults,
    score,
)


@click.command()
@click.option("--fault", "faults", multiple=True, metavar="NAME", help="Only these faults (repeatable).")
@click.option("--skip-rules", is_flag=True, help="Skip the per-rule faults (two per rule of the table).")
@click.option(
    "-j", "--jobs", type=click.IntRange(1), default=lambda: os.cpu_count() or 1, show_default="CPU count",
    help="Catalogue runs at a time.",
)  # fmt: skip
@click.option("-v", "--verbose", is_flag=True, help="Show the output of a run that went wrong.")
def selftest(faults: tuple[str, ...], skip_rules: bool, jobs: int, verbose: bool) -> None:
    """Run the suite against the mock with each named fault on: every fault must be caught, nothing else reported."""
    unknown = sorted(set(faults) - FAULTS.keys())
    if unknown:
        raise click.UsageError(f"unknown fault(s): {', '.join(unknown)}; see `kimi-conformance mock --list-faults`")
    cases = [c for c in catalogue_cases() if not faults or c.name in faults]
    chosen_rules = [] if skip_rules else [f for f in rule_faults() if not faults or f.name in faults]
    click.echo(f"self-test: {len(cases)} suite runs ({jobs} at a time), {len(chosen_rules)} per-rule faults")

    def report(result: CaseResult) -> None:
        click.echo(result.line())
        if verbose and not result.ok and result.detail:
            click.echo(result.detail)

    results = run_catalogue(cases, suites_path(), jobs, report)
    for result in run_rule_faults(chosen_rules) if chosen_rules else ():
        if not result.ok or verbose:
            report(result)
        results.append(result)
    click.echo(f"self-test score: {score(results)}")
    raise SystemExit(0 if all(r.ok for r in results) else 1)
