"""`kimi-conformance recheck CASSETTE`: a recorded run or proxy session judged again with today's checks, offline.

Record once against the live API (a run, or the proxy in front of an app), then judge the recording again in CI
whenever the checks change, for free: no target, no key, no request.
"""

from __future__ import annotations

from pathlib import Path

import click

from kimi_conformance.errors import ConfigError
from kimi_conformance.report import write_reports
from kimi_conformance.report.baseline import read_baseline
from kimi_conformance.runner.recheck import Rejudging, read_recording, recheck

USAGE_ERROR = 4
"""The exit code of a usage error, as `kimi-conformance run` exits (pytest's)."""


@click.command("recheck")
@click.argument("cassette", type=click.Path(exists=True, path_type=Path))
@click.option("--checks", multiple=True, help="Only these checks (codes or names; default: those the run selected).")
@click.option("--exclude-checks", multiple=True, help="Skip these checks (codes or names; default: the run's).")
@click.option("--strict/--no-strict", default=None, help="Warnings fail the recheck too (default: as the run).")
@click.option(
    "--baseline", type=click.Path(dir_okay=False, path_type=Path),
    help="Findings known from this baseline do not fail the recheck (`kimi-conformance baseline create`).",
)  # fmt: skip
@click.option(
    "--report-dir", default="reports", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="Where the recheck's reports go (a folder like a run's).",
)  # fmt: skip
def recheck_command(
    cassette: Path,
    checks: tuple[str, ...],
    exclude_checks: tuple[str, ...],
    strict: bool | None,
    baseline: Path | None,
    report_dir: Path,
) -> None:
    """Judge CASSETTE (a run folder, a proxy's record folder, or a cassette.jsonl) again with today's checks, as the
    run judged it: the same exchanges, tests, model aliases and strictness. Writes reports like a run's; exits as a
    run would (0 pass, 1 blocking findings, new ones with --baseline; 3 a check crashed; 4 a cassette or baseline
    that cannot be read)."""
    try:
        known = read_baseline(baseline, str(baseline)) if baseline is not None else None
        how = Rejudging(checks=checks or None, exclude_checks=exclude_checks or None, strict=strict, baseline=known)
        rechecked = recheck(read_recording(cassette), how)
        folder = write_reports(rechecked.result, report_dir)
        (folder / "cassette.jsonl").write_text(rechecked.cassette, "utf-8")
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(USAGE_ERROR) from None
    except OSError as exc:
        click.echo(f"Error: cannot write the reports to {report_dir}: {exc.strerror or exc}", err=True)
        raise SystemExit(USAGE_ERROR) from None
    result = rechecked.result
    for line in rechecked.lines():
        click.echo(line)
    for crash in result.crashes[:20]:
        click.echo(crash.crash_line())
    data = result.as_json()
    findings = data["summary"]["findings"]
    click.echo(
        f"verdict {data['verdict'].upper()} ({result.verdict_reason}): {data['summary']['outcomes']} check outcomes, "
        f"{findings['error']} error / {findings['warning']} warning / {findings['info']} info findings; "
        f"reports in {folder}"
    )
    raise SystemExit(result.exit_code)
