"""The mock and KVV's stream-spec (mock/stream_spec.py): the usage headers of every chat answer, the token details
of its usage, and each stream-spec fault rewriting the chunks in the one way it names (and nothing without it)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from kimi_conformance.mock import MockConfig
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.mock.stream_spec import ERROR_FRAME, STREAM_FAULTS, spec_faults, usage_headers
from tests.conftest import user
from tests.mock.test_streaming import chunks, stream_events

HEAD = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 1764547200, "model": "kimi-k2.6"}
USAGE = {
    "prompt_tokens": 8,
    "completion_tokens": 4,
    "total_tokens": 12,
    "cached_tokens": 0,
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {**HEAD, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **extra}]}


def tool_stream() -> list[dict[str, Any]]:
    """The chunks of a one-call stream, as the conformant mock sends them."""
    first = {
        "index": 0,
        "id": "get_weather:0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    return [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Let me check."}),
        chunk({"tool_calls": [first]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]}),
        chunk({}, "tool_calls", usage=copy.deepcopy(USAGE)),
        {**HEAD, "choices": [], "usage": copy.deepcopy(USAGE)},
    ]


def rewritten(fault: str) -> list[dict[str, Any]]:
    return list(spec_faults(tool_stream(), MockConfig(faults=frozenset({fault}))))


def test_the_stream_faults_are_catalogued_with_their_codes() -> None:
    assert set(FAULTS) >= STREAM_FAULTS and all(FAULTS[name].codes for name in STREAM_FAULTS)


def test_without_a_stream_spec_fault_the_chunks_pass_untouched() -> None:
    sent = tool_stream()
    config = MockConfig(faults=frozenset({"benign-key-order"}))
    assert all(a is b for a, b in zip(spec_faults(iter(sent), config), sent, strict=True))


def test_usage_details_missing() -> None:
    sent = rewritten("stream-usage-details-missing")
    assert sent[-2]["choices"][0]["usage"] == sent[-1]["usage"] == {
        "prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12, "cached_tokens": 0}  # fmt: skip


def test_tool_fragments_null_keys() -> None:
    sent = rewritten("stream-tool-fragments-null-keys")
    fragments = [c["choices"][0]["delta"]["tool_calls"][0] for c in sent[2:5]]
    assert fragments[0]["id"] == "get_weather:0" and fragments[0]["function"]["name"] == "get_weather"
    assert all(f["id"] is None and f["type"] is None and f["function"]["name"] is None for f in fragments[1:])
    assert [f["function"]["arguments"] for f in fragments[1:]] == ['{"city":', '"Oslo"}']


def test_error_frame() -> None:
    assert rewritten("stream-error-frame") == [*tool_stream()[:2], ERROR_FRAME]


def test_first_delta_without_content() -> None:
    assert rewritten("stream-first-delta-without-content")[0]["choices"][0]["delta"] == {"role": "assistant"}


def test_end_delta_content() -> None:
    sent = rewritten("stream-end-delta-content")
    assert [c["choices"][0]["delta"] for c in sent if c["choices"] and c["choices"][0]["finish_reason"]] == [
        {"content": ""}
    ]


def test_created_per_chunk() -> None:
    assert [c["created"] - HEAD["created"] for c in rewritten("stream-created-per-chunk")] == list(range(7))


def test_tool_index_from_one() -> None:
    sent = rewritten("stream-tool-index-from-one")
    assert [c["choices"][0]["delta"]["tool_calls"][0]["index"] for c in sent[2:5]] == [1, 1, 1]


def test_usage_mid_chunk() -> None:
    sent = rewritten("stream-usage-mid-chunk")
    assert "usage" not in sent[-2]["choices"][0] and sent[-3]["choices"][0]["usage"] == USAGE


def test_utf8_replacement() -> None:
    sent = rewritten("stream-utf8-replacement")
    assert [c["choices"][0]["delta"].get("content") for c in sent[:2]] == ["", "Let me check.\ufffd"]


@pytest.mark.parametrize("fault", [frozenset(), frozenset({"usage-headers-off"})], ids=["conformant", "off"])
def test_usage_headers_follow_the_usage(fault: frozenset[str]) -> None:
    used = {**USAGE, "prompt_tokens": 20, "prompt_tokens_details": {"cached_tokens": 12}}
    prompt = "17" if fault else "20"
    expected = {"X-Msh-Usage-Prompt-Tokens": prompt, "X-Msh-Usage-Cached-Tokens": "12"}
    assert usage_headers(used, MockConfig(faults=fault)) == expected


def _headers(response: httpx.Response) -> tuple[int, int]:
    return int(response.headers["x-msh-usage-prompt-tokens"]), int(response.headers["x-msh-usage-cached-tokens"])


def test_every_chat_answer_carries_usage_headers_equal_to_its_usage(http: httpx.Client) -> None:
    body = {"model": "kimi-k2-turbo-preview", "messages": user("the same prompt for the headers, twice")}
    for _ in range(2):  # the second is served from the prompt cache
        answer = http.post("/chat/completions", json=body)
        usage = answer.json()["usage"]
        assert _headers(answer) == (usage["prompt_tokens"], usage["prompt_tokens_details"]["cached_tokens"])
    assert _headers(answer)[1] > 0
    with http.stream("POST", "/chat/completions", json={**body, "stream": True}) as streamed:
        final = [json.loads(e) for e in streamed.read().decode().split("data: ")[1:] if not e.startswith("[DONE]")]
        usage = final[-1]["choices"][0]["usage"]
        assert _headers(streamed) == (usage["prompt_tokens"], usage["prompt_tokens_details"]["cached_tokens"])


@pytest.mark.parametrize("model", ["kimi-k2-turbo-preview", "kimi-k2.6", "kimi-k3"])
def test_stream_usage_carries_both_token_details(http: httpx.Client, model: str) -> None:
    """reasoning_tokens count what the choice streamed as reasoning_content (0 without); cached_tokens both ways."""
    parsed = chunks(stream_events(http, model=model, messages=user("details"), stream_options={"include_usage": True}))
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning_content") or "" for c in parsed if c["choices"])
    for usage in (parsed[-2]["choices"][0]["usage"], parsed[-1]["usage"]):
        tokens = usage["completion_tokens_details"]["reasoning_tokens"]
        assert (tokens > 0) == bool(reasoning) and tokens <= usage["completion_tokens"]
        assert usage["prompt_tokens_details"]["cached_tokens"] == usage["cached_tokens"]
