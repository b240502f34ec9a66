"""`kimi-conformance drift spec OLD NEW`: how a spec changed, classified by what the change does to clients."""

from __future__ import annotations

from pathlib import Path

import click

from kimi_conformance.drift.documents import read_document
from kimi_conformance.drift.render import FAIL_ON, gates, render_json, render_junit, render_markdown, render_table
from kimi_conformance.drift.spec_diff import compare_documents
from kimi_conformance.errors import ConfigError


@click.group()
def drift() -> None:
    """Spec drift: compare two OpenAPI documents."""


@drift.command("spec")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "output", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True
)
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="breaking", show_default=True, help="What exits 1.")
def spec(old: str, new: str, output: str, junit_path: Path | None, fail_on: str) -> None:
    """Compare OLD and NEW (paths or URLs; YAML or JSON; OpenAPI 3.0 or 3.1) and classify every change."""
    try:
        changes = compare_documents(read_document(old), read_document(new))
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if output == "json":
        click.echo(render_json(changes, old, new), nl=False)
    elif output == "markdown":
        click.echo(render_markdown(changes, old, new), nl=False)
    else:
        click.echo(render_table(changes), nl=False)
    if junit_path is not None:
        junit_path.write_text(render_junit(changes, fail_on), "utf-8")
    raise SystemExit(1 if any(gates(change, fail_on) for change in changes) else 0)
