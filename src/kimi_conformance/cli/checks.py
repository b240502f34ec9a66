"""`kimi-conformance checks`: the registry of checks, as a table, JSON, or the Markdown of docs/checks.md."""

from __future__ import annotations

import json

import click

from kimi_conformance.checks import CHECKS, Check
from kimi_conformance.checks.stream_spec import KVV_STREAM_SPEC
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.rules import load_rules
from kimi_conformance.rules.contested import CONTESTED


def _faults_for(code: str) -> list[str]:
    """Fault names (as Markdown) that must trigger `code`; per-rule faults summarised as `rule-ignored:<rule>`."""
    names = [fault.name for fault in FAULTS.values() if code in fault.codes and fault.rule is None]
    per_rule: dict[str, int] = {}
    for fault in FAULTS.values():
        if code in fault.codes and fault.rule is not None:
            kind = fault.name.split(":", 1)[0]
            per_rule[kind] = per_rule.get(kind, 0) + 1
    return [f"`{name}`" for name in names] + [f"`{kind}:<rule>` ({count} rules)" for kind, count in per_rule.items()]


def _contested_section() -> list[str]:
    """Where the facts contradict each other: what the mock does, and that the suite asserts neither side."""
    lines = [
        "## Contested facts",
        "",
        "Where the facts contradict each other, a target may take either side and be right: the suite asserts",
        "neither. Any finding about whether a request using one of these should have been served (`SCHM002`,",
        "`SCHM003`, `RULE001`-`RULE003`) is a warning naming both sides; the mock takes one documented side.",
        "",
        "| contested use | both sides |",
        "|---|---|",
        *(f"| `{use.id}` | {use.sides} |" for use in CONTESTED),
        "",
        "Contested rules of the table (`kimi-conformance rules`), each a warning where contested:",
        "",
        *(
            f"- `{rule.id}`{f' (on {rule.contested_on} models)' if rule.contested_on else ''}: {rule.contested}"
            for rule in load_rules().rules.values()
            if rule.contested
        ),
        "",
        "The mock's side: on kimi-k3 it takes the `thinking` object (KVV sends one; `thinking.effort` wins over",
        "`reasoning_effort`, and it always reasons), refuses unknown effort values with 400, and refuses",
        "`required` and a named `tool_choice` with 400, as client reports say; it serves `required` on a K2",
        "model that is not thinking, as KVV's tests do.",
        "",
    ]
    return lines


def _stream_spec_section() -> list[str]:
    """KVV's stream-spec (verifiers §5), case by case: the checks that hold each, or why none does."""
    return [
        "## KVV stream-spec",
        "",
        "Each case of KVV's stream-spec (`docs/facts/moonshot-verifiers.md` §5, known second-hand: [O]), in its",
        "order, and the checks that hold it. What rests on §5 alone is a warning; where §5 repeats a documented",
        "fact, the check of that fact holds it, as an error.",
        "",
        "| priority | case | held by | note |",
        "|---|---|---|---|",
        *(
            f"| {case.priority} | {case.case} | {', '.join(f'`{code}`' for code in case.codes) or '-'} | {case.note} |"
            for case in KVV_STREAM_SPEC
        ),
        "",
    ]


def render_markdown() -> str:
    """docs/checks.md: one section per check (regenerate with `kimi-conformance checks --format markdown`)."""
    lines = [
        "# Checks",
        "",
        "Every check has a stable code (never reused), a name that states the property, a severity and a spec",
        "reference into `openapi/moonshot.openapi.yaml`. Errors fail a run; warnings fail it only with `--strict`;",
        "info never does. Select with `--checks` / `--exclude-checks` (codes or names).",
        "",
        "Strength follows the fact: each check cites the fact it asserts, a section of",
        "[`docs/facts/moonshot-api-facts.md`](facts/moonshot-api-facts.md) (`facts §N`) or",
        "[`docs/facts/moonshot-verifiers.md`](facts/moonshot-verifiers.md) (`verifiers §N`) with its source tags,",
        "or a standard (`[standard]`: HTTP, SSE, JSON). An error rests on a [D] documented, [S] published-spec,",
        "[KVV] Moonshot-verifier or standard fact; what rests on [O] observed or [I] inferred facts, or on facts",
        "that contradict each other, is a warning (a check may warn on such a branch of its own). The model-rule",
        "checks (`RULE...`) cite the rules table: each finding is as strong as its rule.",
        "",
        "Each check on each exchange ends passed, failed (a finding), not applicable, or crashed: a check that",
        "raises anything but its finding has erred itself. A crash is kept as its own outcome (the check's code,",
        "the exception's type and message), the other checks of the exchange still run, the test fails saying",
        "`tool error: check CODE ... crashed`, and the run's verdict is `error` (exit code 3), not `fail`.",
        "A streamed chat completion is also folded into the `chat.completion` it amounts to, which faces the",
        "non-streaming checks (`SCHM001`, `CHAT...`) under the same request: in a run and in the proxy alike.",
        "",
        "This file is generated: `kimi-conformance checks --format markdown > docs/checks.md`.",
        "",
        *_contested_section(),
        *_stream_spec_section(),
    ]
    for check in sorted(CHECKS.values(), key=lambda c: c.code):
        faults = _faults_for(check.code)
        scope = ", ".join(f"`{o}`" for o in sorted(check.operations)) if check.operations else "every operation"
        lines += [
            f"## {check.code}",
            "",
            f"**{check.title}** · `{check.name}` · severity **{check.severity.value}**",
            "",
            check.doc,
            "",
            f"- Spec: `openapi/moonshot.openapi.yaml{check.spec}`",
            f"- Fact: `{check.fact}`",
            f"- Applies to: {scope}",
            *(
                ["- Judges model behaviour: `--attempts K` resends a request failing it (pass@k)"]
                if check.behavioural
                else []
            ),
            f"- Mock faults that make it fail: {', '.join(faults) if faults else 'none yet'}",
            "",
        ]
    return "\n".join(lines)


def _row(check: Check) -> dict[str, object]:
    return {
        "code": check.code,
        "name": check.name,
        "title": check.title,
        "severity": check.severity.value,
        "spec": check.spec,
        "fact": check.fact,
        "doc": check.doc,
        "operations": sorted(check.operations) if check.operations else None,
    }


@click.command()
@click.option(
    "--format", "output", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True
)
def checks(output: str) -> None:
    """List the checks: code, severity, name, title and the fact each asserts."""
    ordered = sorted(CHECKS.values(), key=lambda c: c.code)
    if output == "json":
        click.echo(json.dumps([_row(c) for c in ordered], indent=2))
    elif output == "markdown":
        click.echo(render_markdown(), nl=False)
    else:
        for check in ordered:
            click.echo(f"{check.code:8} {check.severity.value:8} {check.name:40} {check.title}  ({check.fact})")
