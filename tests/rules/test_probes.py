"""The probes generated from the rules table: valid ones break no rule and fit the contract, invalid ones break
their rule, and the mock answers each invalid one with that rule's own message (one source of truth)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from jsonschema.exceptions import best_match

from kimi_conformance import contract
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.rules import ModelInfo, load_rules
from kimi_conformance.rules.probes import probes_for
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on

MODELS = list(load_rules().models.values())


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with (
        serve_in_thread(MockConfig(lineup="all")) as server,
        httpx.Client(base_url=server.api_base, headers=headers) as http,
    ):
        yield http


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.id)
def test_probes_mean_what_they_say(model: ModelInfo) -> None:
    validator = contract.validator_for(contract.chat_request_pointer(model.id) or "")
    probes = probes_for(model)
    assert {p.rule for p in probes} == {r.id for r in load_rules().rules_for(model)}
    for probe in probes:
        broken = broken_rules(ChatView(probe.body, model, thinking_on(probe.body, model)))
        if probe.accept:
            assert broken == [], (probe.rule, probe.label, broken)
            assert best_match(validator.iter_errors(probe.body)) is None, (probe.rule, probe.label)
        else:
            assert probe.rule in [rule.id for rule, _ in broken], (probe.rule, probe.label)


@pytest.mark.parametrize("model", ["kimi-k2-turbo-preview", "kimi-k2.6", "moonshot-v1-8k-vision-preview"])
def test_the_mock_refuses_each_rule_with_its_own_message(client: httpx.Client, model: str) -> None:
    info = load_rules().models[model]
    for probe in probes_for(info):
        response = client.post("/chat/completions", json=probe.body)
        if probe.accept:
            assert response.status_code == 200, (probe.rule, probe.label, response.text)
            continue
        first_rule, first_message = broken_rules(ChatView(probe.body, info, thinking_on(probe.body, info)))[0]
        assert response.status_code == 400, (probe.rule, probe.label)
        assert response.json()["error"] == {"type": "invalid_request_error", "message": first_message}, first_rule.id
