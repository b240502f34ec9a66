"""`kimi-conformance rules`: the model rules table (every rule, or those of one model), as a table or JSON, with
what a rules run costs in requests."""

from __future__ import annotations

import json
from typing import Any

import click

from kimi_conformance.profiles import PROFILE_NAMES, PROFILES
from kimi_conformance.rules import ModelInfo, Rule, Strength, load_rules
from kimi_conformance.rules.probes import probes_for_rule
from kimi_conformance.runner.scenarios import rule_probe_count


def _strength(rule: Rule, model: ModelInfo | None) -> Strength:
    """On one model, its strength there; over the table, a warning when it is a warning on every model it applies
    to (firm somewhere: an error)."""
    if model is not None:
        return rule.strength(model)
    strengths = [rule.strength(m) for m in load_rules().models.values() if rule.applies_to(m)]
    firm = [s for s in strengths if not s.warning]
    return firm[0] if firm else (strengths[0] if strengths else Strength(True, "applies to no model"))


def _row(rule: Rule, model: ModelInfo | None) -> dict[str, Any]:
    table = load_rules()
    row: dict[str, Any] = {
        "id": rule.id,
        "title": rule.title,
        "source": rule.source,
        "fact": rule.fact,
        "tags": list(rule.tags),
        "severity": _strength(rule, model).label,
        "strength": _strength(rule, model).reason or None,
        "firm_for": rule.firm_for,
        "contested": rule.contested,
        "message": rule.message,
        "models": [m.id for m in table.models.values() if rule.applies_to(m)],
        "param": None,
    }
    if rule.param is not None:
        param = rule.param
        row["param"] = {
            "name": param.name,
            "minimum": param.minimum,
            "maximum": param.maximum,
            "default": param.default,
            "fixed": param.fixed,
            "fixed_thinking": param.fixed_thinking,
            "fixed_non_thinking": param.fixed_non_thinking,
            "integer": param.integer,
        }
    if model is not None:
        probes = probes_for_rule(rule, model)
        row["probes"] = [{"label": p.label, "accept": p.accept} for p in probes]
    return row


@click.command()
@click.option("--model", "model_id", metavar="ID", help="Only the rules that apply to this model, with their probes.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--profile", type=click.Choice(PROFILE_NAMES), default="standard", show_default=True, help="For the request count."
)
def rules(model_id: str | None, output: str, profile: str) -> None:
    """List the model rules the mock enforces and the suite probes: id, severity, source, title."""
    table = load_rules()
    model = None
    if model_id is not None:
        model = table.model(model_id)
        if model is None:
            raise click.UsageError(f"unknown model {model_id!r}; known: {', '.join(table.models)}")
    chosen = table.rules_for(model) if model is not None else list(table.rules.values())
    rows = [_row(rule, model) for rule in chosen]
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(row["source"]) for row in rows)
    for row in rows:
        click.echo(f"{row['id']:42} {row['severity']:8} {row['source']:{width}} {row['title']}")
    if model is None:
        click.echo(
            f"{len(rows)} rules over {len(table.models)} models; `--model ID` shows one model's rules and probes"
        )
        return
    probes = sum(len(row["probes"]) for row in rows)
    count = rule_probe_count(model, profile)
    click.echo(
        f"{len(rows)} rules apply to {model.id}; a rules run (suites/test_rules.py, profile {profile}) sends at "
        f"most {count} requests: {probes} edge probes + up to {count - probes} hypothesis examples "
        f"({PROFILES[profile].rules.max_examples} per sampling parameter and thinking mode), "
        "each with max_completion_tokens 1"
    )
