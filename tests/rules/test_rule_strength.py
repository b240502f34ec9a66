"""Strength follows the fact, over the whole rules table: a rule gives an error on a model only where it rests on a
[D], [S] or [KVV] fact that its cited section of docs/facts carries; [O], [I], analogy and contested facts give
warnings, and a contested rule's warning names both sides."""

from __future__ import annotations

import dataclasses
import json

from click.testing import CliRunner

from kimi_conformance.cli import cli
from kimi_conformance.rules import FIRM_TAGS, RulesTable, load_rules
from tests.facts_sections import cited_sections, section_tags


def weak_errors(table: RulesTable) -> list[str]:
    """Every (rule, model) that is an error without a firm tag, or whose cited sections carry none of its tags."""
    weak = []
    for model in table.models.values():
        for rule in table.rules_for(model):
            if rule.strength(model).warning:
                continue
            firm = FIRM_TAGS & set(rule.tags)
            sections = cited_sections(rule.fact)
            carried = set().union(*(section_tags(doc, number) for doc, number in sections)) if sections else set()
            if not firm or not firm & carried:
                weak.append(
                    f"{rule.id} on {model.id}: error, rests on {rule.source} "
                    f"(tags {sorted(rule.tags)}; its sections carry {sorted(carried)})"
                )
    return weak


def test_every_error_rule_rests_on_a_firm_fact_its_section_carries() -> None:
    weak = weak_errors(load_rules())
    assert not weak, "error rules without a firm fact behind them:\n" + "\n".join(weak)


def test_a_rule_citing_a_section_without_its_tag_is_found() -> None:
    table = load_rules()
    rule = dataclasses.replace(table.rules["stop.max-count"], fact="facts §10", tags=("KVV",))  # §10 is [D] only
    found = weak_errors(dataclasses.replace(table, rules={rule.id: rule}))
    assert found and found[0].startswith("stop.max-count on ") and "[KVV]" in found[0]


def test_every_cited_section_exists() -> None:
    table = load_rules()
    citations = [rule.fact for rule in table.rules.values()]
    citations += [family.source for family in table.families.values()]
    citations += [model.source for model in table.models.values()]
    for citation in citations:
        for document, number in cited_sections(citation):
            assert section_tags(document, number) is not None, citation  # KeyError for a section that is not there


def test_rules_of_o_and_i_facts_warn() -> None:
    table = load_rules()
    for model in table.models.values():
        for rule in table.rules_for(model):
            if rule.inferred or not FIRM_TAGS & set(rule.tags) or model.infers(rule.id):
                assert rule.strength(model).warning, (rule.id, model.id)


def test_contested_rules_warn_naming_both_sides() -> None:
    table = load_rules()
    contested = [rule for rule in table.rules.values() if rule.contested]
    assert {r.id for r in contested} >= {"thinking.tool-choice-required", "thinking.tool-choice-specified"}
    k3 = table.models["kimi-k3"]
    for rule in contested:
        strength = rule.strength(k3)
        assert strength.warning and "contested" in strength.reason
        assert rule.contested is not None and rule.contested.count("facts §") + rule.contested.count("verifiers §") >= 2


def test_the_review_findings_are_warnings() -> None:
    """Found by review: each asserted an error with no firm fact about that model behind it."""
    table = load_rules()
    k3, code, k2 = table.models["kimi-k3"], table.models["kimi-k2.7-code"], table.models["kimi-k2-turbo-preview"]
    cases = [
        ("thinking.tool-choice-required", k3),
        ("thinking.tool-choice-specified", k3),
        ("content.video-needs-vision", k3),
        ("content.image-needs-vision", code),
        ("content.video-needs-vision", code),
        ("sampling.kimi-k3.temperature", k3),
        ("sampling.kimi-k3.top_p", k3),
        ("sampling.kimi-k3.presence_penalty", k3),
        ("tool-choice.values", k2),
        ("tool-choice.required-needs-tools", k2),
    ]
    for rule_id, model in cases:
        assert table.rules[rule_id].strength(model).warning, (rule_id, model.id)
    assert not table.rules["tool-choice.values"].strength(k3).warning  # KVV's K3 tests: firm there
    assert not table.rules["thinking.tool-choice-required"].strength(table.models["kimi-k2.6"]).warning


def test_rules_json_shows_each_rules_tags_and_strength() -> None:
    result = CliRunner().invoke(cli, ["rules", "--model", "kimi-k3", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert rows["tool-choice.values"]["tags"] == ["KVV"] and rows["tool-choice.values"]["severity"] == "error"
    required = rows["thinking.tool-choice-required"]
    assert required["severity"] == "warning" and required["strength"].startswith("contested: KVV")
    assert all(row["tags"] and row["source"] for row in rows.values())
