"""`thinking.keep` and the reasoning effort, over real HTTP.

keep (facts §3.7, §3.1): kimi-k2.6 ignores the history's `reasoning_content` unless `keep: "all"`, so it costs prompt
tokens only then; kimi-k2.7-code always keeps it. estimate-token-count agrees with chat usage for the same body.
Effort (kimi-k3; verifiers §2 [KVV] "thinking.effort wins", default max): more effort, longer reasoning, the same
answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimi_conformance.tokenizer import count_text

REASONING = "Earlier I weighed three colours and picked the two that sit well together on a page."
HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "Pick two colours."},
    {"role": "assistant", "content": "Blue and green.", "reasoning_content": REASONING},
    {"role": "user", "content": "Why those?"},
]
K26 = "kimi-k2.6"
K27 = "kimi-k2.7-code"
K3 = "kimi-k3"


def keep(value: Any) -> dict[str, Any]:
    """The request fields that set `thinking.keep` to `value` (`...`: no keep at all)."""
    return {"thinking": {"type": "enabled"}} if value is ... else {"thinking": {"type": "enabled", "keep": value}}


def prompt_tokens(http: httpx.Client, body: dict[str, Any]) -> int:
    reply = http.post("/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    usage = reply.json()["usage"]
    assert 0 <= usage["cached_tokens"] <= usage["prompt_tokens"]
    return int(usage["prompt_tokens"])


def estimated(http: httpx.Client, body: dict[str, Any]) -> int:
    fields = {key: body[key] for key in ("model", "messages", "thinking") if key in body}
    reply = http.post("/tokenizers/estimate-token-count", json=fields)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["data"]["total_tokens"])


def test_kimi_k2_6_counts_historical_reasoning_only_with_keep_all(http: httpx.Client) -> None:
    counted = {
        label: prompt_tokens(http, {"model": K26, "messages": HISTORY, **fields})
        for label, fields in [("no thinking", {}), ("no keep", keep(...)), ("null", keep(None)), ("all", keep("all"))]
    }
    assert counted["no thinking"] == counted["no keep"] == counted["null"]
    assert counted["all"] == counted["null"] + count_text(REASONING)


def test_kimi_k2_7_code_always_keeps_the_reasoning(http: httpx.Client) -> None:
    counted = {prompt_tokens(http, {"model": K27, "messages": HISTORY, **keep(value)}) for value in (..., None, "all")}
    ignored = prompt_tokens(http, {"model": K26, "messages": HISTORY})
    assert counted == {ignored + count_text(REASONING)}


@pytest.mark.parametrize(
    ("model", "value"),
    [(K26, ...), (K26, None), (K26, "all"), (K27, ...), (K27, "all")],
    ids=["k2.6-no-keep", "k2.6-null", "k2.6-all", "k2.7-no-keep", "k2.7-all"],
)
def test_the_estimate_agrees_with_chat_usage(http: httpx.Client, model: str, value: Any) -> None:
    body = {"model": model, "messages": HISTORY, **keep(value)}
    assert estimated(http, body) == prompt_tokens(http, body)


def test_ignored_reasoning_is_no_part_of_the_cached_prompt(http: httpx.Client) -> None:
    """A history whose reasoning is ignored is the same prompt whatever that reasoning says: cached as such, and the
    cached tokens never pass the prompt tokens."""
    body = {"model": K26, "messages": HISTORY, "prompt_cache_key": "keep-null-cache"}
    other = [HISTORY[0], {**HISTORY[1], "reasoning_content": "Something else entirely."}, HISTORY[2]]
    first = http.post("/chat/completions", json=body).json()["usage"]
    second = http.post("/chat/completions", json={**body, "messages": other}).json()["usage"]
    assert first["prompt_tokens"] == second["prompt_tokens"]
    assert 0 < second["cached_tokens"] <= second["prompt_tokens"]


# ---------------------------------------------------------------------------------------------------- effort


def reasoning(http: httpx.Client, **fields: Any) -> tuple[str, str, int]:
    """(reasoning_content, content, completion_tokens) of kimi-k3's answer to one fixed question."""
    body = {"model": K3, "messages": [{"role": "user", "content": "Name three colours."}], **fields}
    reply = http.post("/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    message = answer["choices"][0]["message"]
    return message["reasoning_content"], message["content"], answer["usage"]["completion_tokens"]


def effort(value: str) -> dict[str, Any]:
    return {"thinking": {"type": "enabled", "effort": value}}


@pytest.mark.parametrize("spelling", ["thinking.effort", "reasoning_effort"])
def test_more_effort_reasons_longer_with_the_same_answer(http: httpx.Client, spelling: str) -> None:
    def at(level: str) -> tuple[str, str, int]:
        return reasoning(http, **(effort(level) if spelling == "thinking.effort" else {"reasoning_effort": level}))

    low, high, most = at("low"), at("high"), at("max")
    assert count_text(low[0]) < count_text(high[0]) < count_text(most[0])
    assert low[2] < high[2] < most[2]
    assert low[1] == high[1] == most[1]  # only the reasoning grows
    assert high[0].startswith(low[0]) and most[0].startswith(high[0])


def test_the_default_effort_is_max(http: httpx.Client) -> None:
    assert reasoning(http) == reasoning(http, reasoning_effort="max") == reasoning(http, **effort("max"))
    assert reasoning(http) != reasoning(http, reasoning_effort="high")


@pytest.mark.parametrize(("thinking", "top_level"), [("low", "max"), ("max", "low"), ("high", "low")])
def test_thinking_effort_wins_over_reasoning_effort(http: httpx.Client, thinking: str, top_level: str) -> None:
    both = reasoning(http, **effort(thinking), reasoning_effort=top_level)
    assert both == reasoning(http, **effort(thinking))
    assert both != reasoning(http, **effort(top_level))


def test_effort_is_deterministic(http: httpx.Client) -> None:
    assert reasoning(http, reasoning_effort="high") == reasoning(http, reasoning_effort="high")
