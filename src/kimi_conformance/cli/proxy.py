"""`kimi-conformance proxy`: a validating proxy between any client and any target; `kimi-conformance report DIR`
renders what it recorded like a run."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kimi_conformance.checks import Outcome
from kimi_conformance.cli.group import USAGE_ERROR
from kimi_conformance.errors import ConfigError
from kimi_conformance.proxy import create_proxy_app, read_outcomes
from kimi_conformance.report import RunResult, write_reports
from kimi_conformance.report.baseline import read_baseline
from kimi_conformance.settings import url_problem


@click.command()
@click.option("--upstream", required=True, help="The target's SDK-style base URL, e.g. https://api.moonshot.ai/v1.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--allow-non-loopback", is_flag=True, help="Allow a --host that is not a loopback address.")
@click.option("--port", default=8010, show_default=True, type=click.IntRange(0, 65535))
@click.option("--record-dir", default="reports/proxy", show_default=True, type=click.Path(path_type=Path))
def proxy(upstream: str, host: str, allow_non_loopback: bool, port: int, record_dir: Path) -> None:
    """Relay every request to UPSTREAM unchanged (streams chunk by chunk) and check each exchange on the side."""
    import uvicorn

    from kimi_conformance.cli.mock import is_loopback

    if not allow_non_loopback and not is_loopback(host):
        raise click.UsageError(f"--host {host} is not a loopback address; pass --allow-non-loopback to serve on it")
    problem = url_problem(upstream)
    if problem is not None:
        raise click.UsageError(
            f"--upstream must be an http(s) base URL such as https://api.moonshot.ai/v1, not {upstream!r} ({problem})"
        )

    app = create_proxy_app(upstream, record_dir)
    click.echo(f"kimi-conformance proxy on http://{host}:{port}/v1 -> {upstream}; recording to {record_dir}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Known findings (`kimi-conformance baseline create`): only the others fail (exit 1).",
)
def report(folder: Path, baseline_file: Path | None) -> None:
    """Render what `kimi-conformance proxy` recorded in FOLDER (reports like a run's, written next to it); exit
    codes as a run's."""
    try:
        outcomes = [Outcome.from_json(item) for item in read_outcomes(folder)]
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        click.echo(f"Error: {folder / 'outcomes.jsonl'} is not a proxy recording: {exc}", err=True)
        raise SystemExit(USAGE_ERROR) from None
    try:
        baseline = read_baseline(baseline_file, str(baseline_file)) if baseline_file is not None else None
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if not outcomes:
        raise click.UsageError(f"{folder} holds no recorded outcomes (outcomes.jsonl)")
    result = RunResult(
        run_id=f"proxy-{time.strftime('%Y%m%d-%H%M%S')}",
        target=f"proxy recording {folder}",
        settings={},
        outcomes=outcomes,
        started_at=(folder / "outcomes.jsonl").stat().st_ctime,
        finished_at=time.time(),
        baseline=baseline,
    )
    written = write_reports(result, folder / "reports")
    data = result.as_json()
    findings = data["summary"]["findings"]
    for line in result.split.lines(baseline) if result.split is not None and baseline is not None else []:
        click.echo(line)
    click.echo(
        f"verdict {data['verdict'].upper()}: {data['summary']['outcomes']} check outcomes, {findings['error']} error / "
        f"{findings['warning']} warning / {findings['info']} info findings; reports in {written}"
    )
    raise SystemExit(result.exit_code)
