"""The pieces of verifying a compatible provider, in process: the operation groups against the contract, what
`--operations` takes, the surface a run reports, the chat dialect, an alias priced as its model, the plan counting
the operations probe, and the transport sending the dialect while the exchange keeps what was asked."""

from __future__ import annotations

import json

import pytest

from kimi_conformance import contract
from kimi_conformance.dialect import ChatDialect, merged, parse_extra_body
from kimi_conformance.errors import ConfigError
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.operations import GROUPS, Surface, group_of, parse_operations
from kimi_conformance.pricing import load_prices, priced_aliases
from kimi_conformance.runner.discovery import PROBES, probe_ceiling
from kimi_conformance.runner.plan import Plan
from kimi_conformance.settings import Settings
from kimi_conformance.transport import TargetClient


def test_every_operation_of_the_contract_is_in_exactly_one_group() -> None:
    grouped = [operation for operations in GROUPS.values() for operation in operations]
    assert sorted(grouped) == sorted(contract.operations()) and len(grouped) == len(set(grouped))
    assert {probe.group for probe in PROBES} == set(GROUPS) - {"models"}  # models: the run's GET /models
    assert all(group_of(probe.operation) == probe.group for probe in PROBES)


def test_operations_take_groups_and_sets_comma_separated_or_repeated() -> None:
    assert parse_operations(()) is None  # discover
    assert parse_operations(("chat-only",)) == ("models", "chat")
    assert parse_operations(("files, chat", "balance")) == ("chat", "files", "balance")
    assert parse_operations(("moonshot-full",)) == tuple(GROUPS)
    with pytest.raises(ConfigError, match=r"^--operations: unknown name 'createBatch'; groups: models, chat"):
        parse_operations(("createBatch",))  # an operationId is no group a user names
    with pytest.raises(ConfigError, match=r"sets: chat-only, moonshot-full$"):
        Settings(operations=("chat", "filez"))


def test_the_surface_says_why_a_test_is_skipped_and_survives_the_trip_to_a_worker() -> None:
    declared = Surface.declared_by(("chat-only",))
    assert declared.declared and declared.exercised == ("models", "chat")
    assert declared.why_not(["chat"]) is None
    assert declared.why_not(["uploadFile"]) == "files: not offered (--operations chat-only)"
    found = Surface().without({"batches": "GET /batches answered 404", "files": "GET /files answered 404"})
    assert found.why_not(["files", "batches"]) == "files: not offered (GET /files answered 404)"
    assert found.line() == (
        "4 exercised (models, chat, estimate, balance); not offered: files (GET /files answered 404), "
        "batches (GET /batches answered 404)"
    )
    assert Surface.from_json(json.loads(json.dumps(found.as_json()))) == found
    assert Surface().line() == "6 exercised (models, chat, estimate, files, batches, balance)"


def test_the_thinking_switch_goes_out_as_the_chat_templates_and_the_request_keeps_its_own_fields() -> None:
    template = ChatDialect("chat-template-kwargs")
    asked = {"model": "m", "messages": [], "thinking": {"type": "disabled"}, "temperature": 0.6}
    assert template.wire(asked) == {"model": "m", "messages": [], "temperature": 0.6,
                                    "chat_template_kwargs": {"thinking": False}}  # fmt: skip
    assert template.wire({"thinking": {"type": "enabled"}}) == {"chat_template_kwargs": {"thinking": True}}
    odd = {"thinking": {"type": "enabled", "effort": "high"}}  # no plain switch: a probe of the object itself
    assert template.wire(odd) == odd and not template.translates(odd) and template.translates({"model": "m"})
    assert ChatDialect().wire(asked) == asked and ChatDialect().plain and ChatDialect().translates(odd)
    extra = ChatDialect("chat-template-kwargs", {"top_k": 5, "temperature": 1.0, "chat_template_kwargs": {"x": 1}})
    assert extra.wire(asked) == {"model": "m", "messages": [], "temperature": 0.6, "top_k": 5,
                                 "chat_template_kwargs": {"thinking": False, "x": 1}}  # fmt: skip
    assert merged({"a": {"b": 1}}, {"a": {"b": 2, "c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "d": 4}
    assert parse_extra_body('{"top_k": 5}') == {"top_k": 5} and parse_extra_body(None) == {}
    with pytest.raises(ConfigError, match="not JSON"):
        parse_extra_body("{'top_k': 5}")
    with pytest.raises(ConfigError, match=r"^--extra-body must be a JSON object, not str: \"x\"$"):
        Settings(extra_body='"x"')
    with pytest.raises(ConfigError, match=r"^--extra-body is not JSON"):
        Settings(extra_body="{")
    with pytest.raises(ConfigError, match="thinking-style must be one of kimi, chat-template-kwargs"):
        ChatDialect("vllm")


def test_an_alias_is_priced_as_the_model_it_names() -> None:
    prices = priced_aliases(load_prices(), {"moonshotai/Kimi-K2.6": "kimi-k2.6", "acme/k3": "kimi-k3"})
    assert prices["moonshotai/Kimi-K2.6"] == prices["kimi-k2.6"]
    assert "acme/k3" not in prices  # kimi-k3 has no price: neither has its alias


def test_the_plan_of_a_url_target_counts_the_operations_probe_unless_operations_are_named() -> None:
    url = "https://vendor.example/v1"
    requests, tokens = probe_ceiling()
    assert requests == len(PROBES) and 0 < tokens < 50
    discovered = Plan(Settings(target=url, models=("kimi-k2.6",)), ("kimi-k2.6",), (), False)
    assert discovered.probe.requests == 1 + len(PROBES) and discovered.probe.tokens == tokens
    assert any(line.startswith("(operations probe)") for line in discovered.lines())
    named = Plan(Settings(target=url, models=("kimi-k2.6",), operations=("chat-only",)), ("kimi-k2.6",), (), False)
    assert named.probe.requests == 1 and not any(line.startswith("(operations probe)") for line in named.lines())
    assert Plan(Settings(), (), (), False).probe.requests == 0


def test_the_transport_sends_the_dialect_and_the_exchange_keeps_what_was_asked() -> None:
    dialect = Settings(thinking_style="chat-template-kwargs", extra_body='{"top_k": 3}').dialect()
    asked = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 4,
             "thinking": {"type": "disabled"}}  # fmt: skip
    with serve_in_thread(MockConfig()) as mock, TargetClient(mock.api_base, DEFAULT_API_KEY, dialect=dialect) as client:
        chat = client.request("createChatCompletion", "POST", "/chat/completions", json_body=asked)
        estimate = client.request(
            "estimateTokenCount", "POST", "/tokenizers/estimate-token-count", json_body=asked
        )  # not a chat request: sent as asked
    assert chat.status == 200 and chat.request_json == asked
    sent = json.loads(chat.request_text)
    assert sent["chat_template_kwargs"] == {"thinking": False} and sent["top_k"] == 3 and "thinking" not in sent
    assert f"-d '{chat.request_text}'" in chat.curl()  # the replay sends what was sent
    assert json.loads(estimate.request_text) == asked
