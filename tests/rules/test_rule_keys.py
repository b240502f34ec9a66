"""`RuleLogic.keys`: a body with none of a rule's keys neither breaks nor touches it, so the mock may skip asking. The
probes that break each rule carry one of its keys, random bodies without a rule's keys never break or touch it, and
the mock's filtered enforcement raises the same first rule as asking every rule of the table."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_conformance.mock import MockConfig
from kimi_conformance.mock.chat_validation import enforce_rules
from kimi_conformance.mock.errors import ApiError
from kimi_conformance.rules import ModelInfo, load_rules
from kimi_conformance.rules.probes import probes_for
from kimi_conformance.rules.request_rules import ChatView, broken_rules, logic, thinking_on

MODELS = list(load_rules().models.values())
KEYED = sorted({key for rule in load_rules().rules.values() for key in logic(rule).keys})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300_000) | st.floats(-3, 3, allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
tool = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["function", "builtin_function"]),
        "function": st.fixed_dictionaries(
            {},
            optional={"name": st.sampled_from(["get_weather", "a", "$web_search", "x y"]), "parameters": json_values},
        ),
    }
)
key_values: dict[str, st.SearchStrategy[Any]] = dict.fromkeys(KEYED, json_values) | {
    "tools": st.lists(tool, max_size=3) | json_values,
    "thinking": st.fixed_dictionaries(
        {}, optional={"type": st.sampled_from(["enabled", "disabled", "x"]), "effort": json_values, "keep": json_values}
    )
    | json_values,
    "response_format": st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "json_object", "json_schema", "x"])},
        optional={
            "json_schema": st.fixed_dictionaries(
                {}, optional={"name": json_values, "schema": json_values, "strict": json_values}
            )
        },
    )
    | json_values,
    "tool_choice": st.sampled_from(["auto", "none", "required", "x"]) | json_values,
}
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "tool", "system", "x"]), "content": json_values},
        optional={"partial": st.booleans(), "tool_calls": json_values, "tool_call_id": json_values},
    ),
    min_size=1,
    max_size=3,
)
bodies = st.builds(
    lambda model, msgs, extra: {"model": model.id, "messages": msgs, **extra},
    st.sampled_from(MODELS),
    messages,
    st.fixed_dictionaries({}, optional=key_values),
)


def _view(body: dict[str, Any]) -> ChatView:
    model = load_rules().model(body["model"])
    assert model is not None
    return ChatView(body, model, thinking_on(body, model))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.id)
def test_every_probe_that_breaks_a_keyed_rule_carries_one_of_its_keys(model: ModelInfo) -> None:
    for probe in probes_for(model):
        rule = load_rules().rule(probe.rule)
        assert rule is not None
        keys = logic(rule).keys
        if probe.accept or not keys:
            continue
        assert set(keys) & set(probe.body), (probe.rule, probe.label, sorted(probe.body))


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_a_body_without_a_rules_keys_neither_breaks_nor_touches_it(body: dict[str, Any]) -> None:
    model = load_rules().model(body["model"])
    assert model is not None
    for rule in load_rules().rules_for(model):
        code = logic(rule)
        if not code.keys:
            continue
        view = _view({key: value for key, value in body.items() if key not in code.keys})
        assert code.broken(view) is None, rule.id
        assert not code.touches(view), rule.id


def _raised(view: ChatView, after_schema: bool) -> str | None:
    try:
        enforce_rules(view, MockConfig(lineup="all"), after_schema=after_schema)
    except ApiError as error:
        return error.message
    return None


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_the_mock_raises_the_same_first_rule_as_asking_every_rule(body: dict[str, Any]) -> None:
    for after_schema in (False, True):
        every = broken_rules(_view(body), after_schema=after_schema)
        expected = f"{every[0][1]}" if every else None
        assert _raised(_view(body), after_schema) == expected
