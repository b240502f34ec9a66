"""`kimi-conformance compare RUN_DIR...`: several runs side by side (Markdown, and a self-contained HTML page)."""

from __future__ import annotations

from pathlib import Path

import click

from kimi_conformance.errors import ConfigError
from kimi_conformance.report.compare import label_runs, load_run, render_compare_html, render_compare_markdown


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--label", "labels", multiple=True, help="Column label for each run, in order (default: its target).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the HTML page.")
@click.option(
    "--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path), help="Write Markdown here."
)
def compare(
    runs: tuple[Path, ...], labels: tuple[str, ...], html_path: Path | None, markdown_path: Path | None
) -> None:
    """Compare runs (report folders such as reports/latest): checks x targets, findings, requests, tokens, cost."""
    try:
        compared = label_runs([load_run(path) for path in runs], list(labels))
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
