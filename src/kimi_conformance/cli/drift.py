"""`kimi-conformance drift spec OLD NEW`: how a spec changed, classified by what the change does to clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click
import yaml

from kimi_conformance.drift.documents import read_document
from kimi_conformance.drift.render import FAIL_ON, gates, render_json, render_junit, render_markdown, render_table
from kimi_conformance.drift.spec_diff import compare_documents
from kimi_conformance.drift.traffic import analyse, read_cassette, suggest_overlay
from kimi_conformance.drift.traffic import render_table as render_drift_table
from kimi_conformance.errors import ConfigError


def unreadable(message: str) -> NoReturn:
    """A document (or a file to write) the command cannot use: one line on stderr, exit 2."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


@click.group()
def drift() -> None:
    """Drift: spec against spec, and a run's traffic against the contract."""


@drift.command("traffic")
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--fail-on", type=click.Choice(["none", "warning", "any"]), default="none", show_default=True, help="What exits 1."
)
@click.option(
    "--suggest", "overlay_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Write an OpenAPI overlay that would make the contract describe what was observed (to review).",
)  # fmt: skip
def traffic(run: Path, output: str, fail_on: str, overlay_path: Path | None) -> None:
    """What a run's traffic (RUN/cassette.jsonl) shows the target doing that the contract does not say."""
    try:
        drifts = analyse(read_cassette(run))
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if overlay_path is not None:
        overlay_path.write_text(yaml.safe_dump(suggest_overlay(drifts), sort_keys=False, allow_unicode=True), "utf-8")
        click.echo(f"overlay for review: {overlay_path}", err=True)
    if output == "json":
        click.echo(json.dumps([d.as_json() for d in drifts], indent=2, ensure_ascii=False))
    else:
        click.echo(render_drift_table(drifts), nl=False)
    failing = [d for d in drifts if fail_on == "any" or (fail_on == "warning" and d.severity == "warning")]
    raise SystemExit(1 if failing else 0)


@drift.command("spec")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "output", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True
)
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="breaking", show_default=True, help="What exits 1.")
def spec(old: str, new: str, output: str, junit_path: Path | None, fail_on: str) -> None:
    """Compare OLD and NEW (paths or URLs; YAML or JSON; OpenAPI 3.0 or 3.1) and classify every change.

    Moonshot's published spec is https://platform.kimi.ai/docs/openapi.json. Union branches are matched by
    identity (discriminating values, title, structure), never by position, and named in pointers:
    `oneOf[kimi-k2.6]`."""
    try:
        changes = compare_documents(read_document(old), read_document(new), (old, new))
    except ConfigError as exc:
        unreadable(str(exc))
    if output == "json":
        click.echo(render_json(changes, old, new), nl=False)
    elif output == "markdown":
        click.echo(render_markdown(changes, old, new), nl=False)
    else:
        click.echo(render_table(changes), nl=False)
    if junit_path is not None:
        try:
            junit_path.write_text(render_junit(changes, fail_on), "utf-8")
        except OSError as exc:
            unreadable(f"cannot write {junit_path}: {exc.strerror or exc}")
    raise SystemExit(1 if any(gates(change, fail_on) for change in changes) else 0)
