"""The model rules table: complete, validated against its JSON Schema, and loud when it is wrong."""

from __future__ import annotations

import pytest

from kimi_conformance.errors import ConfigError
from kimi_conformance.rules import Thinking, load_rules, request_rules, table

FACTS_MODEL_IDS = {
    "moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "moonshot-v1-auto",
    "moonshot-v1-8k-vision-preview", "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview",
    "kimi-latest", "kimi-k2-0711-preview", "kimi-k2-0905-preview", "kimi-k2-turbo-preview",
    "kimi-k2-thinking", "kimi-k2-thinking-turbo", "kimi-k2.5", "kimi-k2.6",
    "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3", "kimi-k3.1-pro", "kimi-k3.1-pro-highspeed",
}  # fmt: skip
CURRENT_LINEUP = {
    "kimi-k3", "kimi-k3.1-pro", "kimi-k3.1-pro-highspeed", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k2.6",
}  # fmt: skip
"""Facts §12: the live listing of 2026-09 and the K3.1 models of 2026-10; everything else is retired."""


def test_every_model_of_the_facts_is_in_the_table() -> None:
    assert set(load_rules().models) == FACTS_MODEL_IDS


def test_family_facts() -> None:
    rules = load_rules()
    k26 = rules.models["kimi-k2.6"]
    assert k26.context_length == 262144 and k26.thinking is Thinking.DEFAULT_ON and k26.video_in
    temperature = k26.family.params["temperature"]
    assert (temperature.fixed_value(thinking=True), temperature.fixed_value(thinking=False)) == (1.0, 0.6)
    v1 = rules.models["moonshot-v1-8k"].family.params["temperature"]
    assert (v1.minimum, v1.maximum, v1.effective_default(thinking=False)) == (0.0, 1.0, 0.0)
    assert not rules.models["kimi-k2-turbo-preview"].thinks(None)
    assert rules.models["kimi-k2-thinking"].thinks({"type": "disabled"})
    assert not rules.models["kimi-k2.5"].thinks({"type": "disabled"})


def test_every_rule_cites_a_source() -> None:
    rules = load_rules()
    assert all(model.source.startswith("facts §") for model in rules.models.values())
    assert all(family.source.startswith("facts §") for family in rules.families.values())


def test_an_invalid_table_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    original = table._read

    def broken(name: str) -> str:
        text = original(name)
        return text.replace('thinking = "never"', 'thinking = "sometimes"', 1) if name == "models.toml" else text

    monkeypatch.setattr(table, "_read", broken)
    load_rules.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"models\.toml is invalid at models/0/thinking"):
            load_rules()
    finally:
        monkeypatch.undo()
        load_rules.cache_clear()


def test_request_rules_are_many_sourced_and_have_code() -> None:
    rules = load_rules().rules
    assert len(rules) >= 40
    for rule in rules.values():
        assert rule.fact.startswith("facts §") and rule.tags, rule.id
        assert ("I" in rule.tags) is rule.inferred or rule.param is not None, rule.id
    non_sampling = {rule.id for rule in rules.values() if rule.param is None}
    assert non_sampling == set(request_rules.LOGIC)  # the mock enforces exactly the table


def test_the_current_lineup_is_todays() -> None:
    models = load_rules().models.values()
    assert {m.id for m in models if table.in_lineup(m, "current")} == CURRENT_LINEUP
    assert {m.id for m in models if table.in_lineup(m, "all")} == FACTS_MODEL_IDS
    assert all(m.retired for m in models if m.id not in CURRENT_LINEUP)


def test_every_model_has_rules_and_an_inferred_rule_warns() -> None:
    rules = load_rules()
    latest = rules.models["kimi-latest"]
    assert all(rule.strength(latest).warning for rule in rules.rules_for(latest))  # its family rules are [I]
    k26 = rules.models["kimi-k2.6"]
    assert not rules.rules["sampling.kimi-k2_6.temperature"].strength(k26).warning
    assert "inference" in rules.rules["partial.last-message"].strength(k26).reason
    assert all(len(rules.rules_for(model)) >= 30 for model in rules.models.values())
