"""`kimi-conformance compare RUN_DIR...`: several runs side by side (Markdown, and a self-contained HTML page); exit
1 when a later run has new findings against the first (`--fail-on none`: always 0)."""

from __future__ import annotations

from pathlib import Path

import click

from kimi_conformance.errors import ConfigError
from kimi_conformance.report.compare import (
    label_runs,
    load_run,
    regressions,
    render_compare_html,
    render_compare_markdown,
)


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--label", "labels", multiple=True, help="Column label for each run, in order (default: its target).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the HTML page.")
@click.option(
    "--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path), help="Write Markdown here."
)
@click.option(
    "--fail-on",
    type=click.Choice(["new", "none"]),
    default="new",
    show_default=True,
    help="new: exit 1 when a later run has a blocking finding whose fingerprint the first run has no finding of.",
)
def compare(
    runs: tuple[Path, ...], labels: tuple[str, ...], html_path: Path | None, markdown_path: Path | None, fail_on: str
) -> None:
    """Compare runs (report folders such as reports/latest): checks x targets, findings, requests, tokens, cost;
    then each later run against the first: its new findings and the fixed ones, matched by fingerprint."""
    try:
        compared = label_runs([load_run(path) for path in runs], list(labels))
        found = regressions(compared)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    markdown = render_compare_markdown(compared)
    if markdown_path is not None:
        markdown_path.write_text(markdown, "utf-8")
    else:
        click.echo(markdown, nl=False)
    if html_path is not None:
        html_path.write_text(render_compare_html(compared), "utf-8")
        click.echo(f"comparison page: {html_path}", err=True)
    new = [(r.label, len(r.new)) for r in found if r.new]
    if new:
        click.echo("new findings against the first run: " + "; ".join(f"{label}: {n}" for label, n in new), err=True)
    raise SystemExit(1 if new and fail_on == "new" else 0)
