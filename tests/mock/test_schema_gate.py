"""The mock's compiled schema verdict (`schema_gate`) is never more lenient than jsonschema on this contract: a body
it calls valid, jsonschema calls valid, so the mock refuses exactly what it refused before, with the same message.

Bodies: every probe the rules table generates (the boundaries of every rule, for every model), and those bodies
changed at random by hypothesis (a value anywhere replaced with an awkward one, or a key dropped), for the chat
family schemas and the other request bodies the mock validates."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import best_match

from kimi_conformance import contract
from kimi_conformance.mock.schema_gate import first_error, quickly_valid
from kimi_conformance.rules import load_rules
from kimi_conformance.rules.probes import probes_for

MODELS = list(load_rules().models.values())
SEEDS: list[tuple[str, dict[str, Any]]] = [
    (pointer, probe.body)
    for model in MODELS
    if (pointer := contract.chat_request_pointer(model.id)) is not None
    for probe in probes_for(model)
]
ESTIMATE = contract.request_body_pointer("/v1/tokenizers/estimate-token-count", "post")
BATCH = contract.request_body_pointer("/v1/batches", "post")
SEEDS += [
    (ESTIMATE, {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}),
    (BATCH, {"input_file_id": "file-abc", "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
]
AWKWARD = st.one_of(
    st.sampled_from(["abc\n", "get_weather\n", "١٢٣", "x" * 300, "", " ", "ms://abcdefghijklmnopqrst\n", "24h\n"]),
    st.sampled_from([0, -1, 1.0, 2.5, 10**20, 2**64 + 1, True, False, None, float("inf"), float("nan")]),
    st.sampled_from([[], {}, [None], {"type": "text"}, {"role": "user"}, [{"type": "function"}]]),
    st.text(max_size=8),
)


def jsonschema_error(pointer: str, body: Any) -> str | None:
    error = best_match(contract.validator_for(pointer).iter_errors(body))
    return None if error is None else error.message


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `value` (object keys and list indexes)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*path, index))
    return found


def changed(body: dict[str, Any], path: tuple[Any, ...], new: Any, drop: bool) -> Any:
    result: Any = copy.deepcopy(body)
    if not path:
        return new
    parent = result
    for part in path[:-1]:
        parent = parent[part]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return result


@pytest.mark.parametrize("pointer", sorted({pointer for pointer, _ in SEEDS}))
def test_every_probe_gets_the_verdict_and_message_jsonschema_gives(pointer: str) -> None:
    for _, body in (seed for seed in SEEDS if seed[0] == pointer):
        expected = jsonschema_error(pointer, body)
        if quickly_valid(pointer, body):
            assert expected is None, body
        message = first_error(pointer, body)
        assert (message is None) == (expected is None), body
        assert expected is None or (message or "").startswith(expected[:80]), body


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_a_body_the_compiled_schema_accepts_jsonschema_accepts(data: st.DataObject) -> None:
    pointer, body = data.draw(st.sampled_from(SEEDS))
    path = data.draw(st.sampled_from(places(body)))
    mutant = changed(body, path, data.draw(AWKWARD), data.draw(st.booleans()))
    if quickly_valid(pointer, mutant):
        assert jsonschema_error(pointer, mutant) is None, (pointer, mutant)
