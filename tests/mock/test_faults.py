"""Each named fault switches on exactly the deviation it names. Faults with check codes are proven by the suite
catching them (tests/runner/test_run.py); the others (streaming, whose checks come later) are probed here."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kimi_conformance.errors import ConfigError
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.mock.faults import FAULTS
from tests.conftest import user

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
CHAT = {"model": "kimi-k2-turbo-preview", "messages": user("hi")}


def _stream(client: httpx.Client) -> str:
    return client.post("/chat/completions", json={**CHAT, "stream": True}, headers=AUTH).text


def omits_done(client: httpx.Client) -> bool:
    return not _stream(client).endswith("data: [DONE]\n\n")


def usage_only_top_level(client: httpx.Client) -> bool:
    body = _stream(client)
    return '"finish_reason":"stop","usage"' not in body and '"choices":[]' in body


def flat_envelope(client: httpx.Client) -> bool:
    body = client.get("/models").json()
    return "error" not in body and "message" in body


def server_error_for_bad_request(client: httpx.Client) -> bool:
    return client.post("/chat/completions", json={**CHAT, "n": 9}, headers=AUTH).status_code == 500


def ignores_auth(client: httpx.Client) -> bool:
    return client.get("/models").status_code == 200


def clamps_sampling(client: httpx.Client) -> bool:
    body = {"model": "kimi-k2.6", "messages": user("hi"), "temperature": 0.7, "top_p": 0.3}
    return client.post("/chat/completions", json=body, headers=AUTH).status_code == 200


def opens_with_a_retry_block(client: httpx.Client) -> bool:
    return _stream(client).startswith("retry: 3000\n\ndata: ")


def null_roles_after_the_first_delta(client: httpx.Client) -> bool:
    body = _stream(client)
    return body.count('"role":"assistant"') == 1 and '"delta":{"role":null,' in body


def error_fields_null(client: httpx.Client) -> bool:
    error = client.get("/models").json()["error"]
    return {"code", "param"} <= set(error) and error["code"] is None and error["param"] is None


LOOSE_WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": False,
    },
}


def loose_arguments_outside_the_schema(client: httpx.Client) -> bool:
    """A `strict: false` tool's arguments: a JSON object without the required city, with an unknown property."""
    body = {**CHAT, "tools": [LOOSE_WEATHER], "tool_choice": "required"}
    call = client.post("/chat/completions", json=body, headers=AUTH).json()["choices"][0]["message"]["tool_calls"][0]
    arguments = json.loads(call["function"]["arguments"])
    strict = {**body, "tools": [{**LOOSE_WEATHER, "function": {**LOOSE_WEATHER["function"], "strict": True}}]}
    kept = client.post("/chat/completions", json=strict, headers=AUTH).json()["choices"][0]["message"]["tool_calls"][0]
    return (
        isinstance(arguments, dict) and "city" not in arguments and "city" in json.loads(kept["function"]["arguments"])
    )


PROBES: dict[str, Callable[[httpx.Client], bool]] = {
    "stream-omit-done": omits_done,
    "stream-usage-top-level-only": usage_only_top_level,
    "error-envelope-flat": flat_envelope,
    "server-error-for-client-errors": server_error_for_bad_request,
    "auth-ignored": ignores_auth,
    "sampling-clamped": clamps_sampling,
    "benign-retry-field": opens_with_a_retry_block,
    "benign-null-role-deltas": null_roles_after_the_first_delta,
    "benign-error-nulls": error_fields_null,
    "benign-loose-tool-arguments": loose_arguments_outside_the_schema,
}


def test_probes_name_real_faults() -> None:
    assert set(PROBES) <= set(FAULTS)


@pytest.mark.parametrize("fault", sorted(PROBES))
def test_fault_shows_only_when_switched_on(fault: str) -> None:
    probe = PROBES[fault]
    for faults, expected in ((frozenset({fault}), True), (frozenset(), False)):
        with (
            serve_in_thread(MockConfig(lineup="all", faults=faults)) as server,
            httpx.Client(base_url=server.api_base) as client,
        ):
            assert probe(client) is expected, f"{fault} on={expected}"


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown fault"):
        MockConfig(lineup="all", faults=frozenset({"make-it-worse"}))
