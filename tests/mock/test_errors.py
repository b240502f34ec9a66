"""Every error status the mock answers, in the common envelope; malformed input never gives a 5xx."""

from __future__ import annotations

import concurrent.futures
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread
from tests.conftest import user

OPERATIONS = [
    ("POST", "/chat/completions"),
    ("GET", "/models"),
    ("POST", "/files"),
    ("GET", "/files"),
    ("GET", "/files/abcdefghij0123456789"),
    ("DELETE", "/files/abcdefghij0123456789"),
    ("GET", "/files/abcdefghij0123456789/content"),
    ("POST", "/tokenizers/estimate-token-count"),
    ("GET", "/users/me/balance"),
    ("POST", "/batches"),
    ("GET", "/batches"),
    ("GET", "/batches/batch_x"),
    ("POST", "/batches/batch_x/cancel"),
]


def assert_envelope(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == error_type and isinstance(error["message"], str) and error["message"]
    return error


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("authorization", [None, "Bearer sk-wrong", "Basic c2stYQ==", "Bearer"])
def test_every_operation_requires_the_key(
    mock_server: MockServer, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.request(method, mock_server.api_base + path, headers=headers)
    assert_envelope(response, 401, "invalid_authentication_error")


def test_unknown_model_is_404(http: httpx.Client) -> None:
    response = http.post("/chat/completions", json={"model": "gpt-4o", "messages": user("hi")})
    error = assert_envelope(response, 404, "resource_not_found_error")
    assert error["message"] == "Not found the model gpt-4o or Permission denied"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "kimi-k2.6", "temperature": 0.7}, "invalid temperature: only 1 is allowed for this model"),
        (
            {"model": "kimi-k2.6", "temperature": 1.0, "thinking": {"type": "disabled"}},
            "invalid temperature: only 0.6 is allowed for this model",
        ),
        ({"model": "kimi-k2.5", "top_p": 0.8}, "invalid top_p: only 0.95 is allowed for this model"),
        ({"model": "kimi-k2.5", "n": 2}, "invalid n: only 1 is allowed for this model"),
        ({"model": "kimi-k2.6", "presence_penalty": 0.5}, "invalid presence_penalty: only 0 is allowed for this model"),
        ({"model": "moonshot-v1-8k", "temperature": 1.5}, "invalid temperature: must be between 0 and 1"),
        ({"model": "kimi-k2-turbo-preview", "n": 6}, "invalid n: must be between 1 and 5"),
        (
            {"model": "kimi-k2.7-code", "thinking": {"type": "disabled"}},
            "invalid thinking: only type=enabled is allowed for this model",
        ),
        (
            {
                "model": "kimi-k2.6",
                "tool_choice": "required",
                "tools": [
                    {
                        "type": "function",
                        "function": {"name": "f_x", "parameters": {"type": "object", "properties": {}}},
                    }
                ],
            },
            "tool_choice 'required' is incompatible with thinking enabled",
        ),
    ],
)
def test_parameter_rules_in_the_observed_style(http: httpx.Client, body: dict[str, Any], message: str) -> None:
    response = http.post("/chat/completions", json={**body, "messages": user("Say OK")})
    assert assert_envelope(response, 400, "invalid_request_error")["message"].startswith(message)


def test_fixed_values_and_omission_are_accepted(http: httpx.Client) -> None:
    for extra in (
        {},
        {"temperature": 1.0, "top_p": 0.95, "n": 1},
        {"temperature": 0.6, "thinking": {"type": "disabled"}},
    ):
        response = http.post("/chat/completions", json={"model": "kimi-k2.6", "messages": user("OK"), **extra})
        assert response.status_code == 200, (extra, response.text)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\xfd", "application/json"),
        (b"[]", "application/json"),
        (b'{"model": "kimi-k2.6"}', "application/json"),
        (b'{"model": "kimi-k2.6", "messages": []}', "application/json"),
        (b'{"model": "kimi-k2.6", "messages": [{"role": "robot", "content": "hi"}]}', "application/json"),
        (b'{"model": "kimi-k2.6", "messages": [{"role": "user", "content": ""}]}', "application/json"),
        (b'{"model": "kimi-k2.6", "messages": [{"role": "user", "content": 5}]}', "application/json"),
        (b'{"model": 5, "messages": []}', "application/json"),
        (b"model=kimi", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_chat_requests_are_400(http: httpx.Client, raw: bytes, content_type: str) -> None:
    response = http.post("/chat/completions", content=raw, headers={"Content-Type": content_type})
    assert_envelope(response, 400, "invalid_request_error")


def test_context_window_is_enforced(http: httpx.Client) -> None:
    response = http.post(
        "/chat/completions", json={"model": "moonshot-v1-8k", "messages": user("hi"), "max_tokens": 8190}
    )
    assert assert_envelope(response, 400, "invalid_request_error")["message"] == (
        "Your request exceeded model token limit: 8192"
    )


def test_tool_message_needs_a_matching_call(http: httpx.Client) -> None:
    messages = [*user("hi"), {"role": "tool", "tool_call_id": "functions.x:0", "content": "42"}]
    response = http.post("/chat/completions", json={"model": "kimi-k2-turbo-preview", "messages": messages})
    assert "tool_call_id" in assert_envelope(response, 400, "invalid_request_error")["message"]


def test_unknown_route_gets_the_gateway_envelope(http: httpx.Client) -> None:
    wrong_method, unknown_path = http.get("/chat/completions"), http.get("/nothing/here")
    assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "POST")
    assert http.delete("/files").headers["allow"] == "GET, HEAD, POST"
    assert unknown_path.status_code == 404
    for response in (wrong_method, unknown_path):
        body = response.json()
        assert body["error"] == "url.not_found" and body["status"] is False and body["scode"] == "0x5"


def test_rpm_limit_answers_429_with_retry_after() -> None:
    with serve_in_thread(MockConfig(lineup="all", rpm=2)) as server:
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        statuses = [httpx.get(server.api_base + "/models", headers=headers) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    error = assert_envelope(statuses[2], 429, "rate_limit_reached_error")
    assert "max RPM: 2" in error["message"]
    assert int(statuses[2].headers["retry-after"]) >= 1


def test_concurrency_limit_answers_429() -> None:
    with serve_in_thread(MockConfig(lineup="all", max_concurrency=1, chunk_delay=0.05)) as server:
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        body = {"model": "kimi-k2-turbo-preview", "messages": user("long"), "stream": True}
        started = threading.Event()

        def hold_a_stream() -> int:
            with httpx.stream("POST", server.api_base + "/chat/completions", json=body, headers=headers) as r:
                for _ in r.iter_raw():
                    started.set()
                return r.status_code

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            holder = pool.submit(hold_a_stream)
            assert started.wait(5)
            second = httpx.get(server.api_base + "/models", headers=headers)
            assert holder.result() == 200
        after = httpx.get(server.api_base + "/models", headers=headers)
    error = assert_envelope(second, 429, "rate_limit_reached_error")
    assert "max concurrency: 1" in error["message"]
    assert after.status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
chat_like = st.fixed_dictionaries(
    {"model": st.sampled_from(["kimi-k2.6", "moonshot-v1-8k", "kimi-k2-thinking"]) | st.text(max_size=8)},
    optional={
        "messages": st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["user", "assistant", "tool", "system", "x"]), "content": json_values},
                optional={"partial": json_values, "tool_calls": json_values, "tool_call_id": json_values},
            ),
            max_size=3,
        ),
        "temperature": json_values,
        "n": json_values,
        "tools": json_values,
        "tool_choice": json_values,
        "stop": json_values,
        "response_format": json_values,
        "thinking": json_values,
        "max_tokens": json_values,
        "stream": st.booleans(),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=chat_like)
def test_no_chat_input_gives_a_server_error(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/chat/completions", content=json.dumps(body).encode())
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code != 200:
        assert response.json()["error"]["type"] in ("invalid_request_error", "resource_not_found_error")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, path=st.sampled_from(["/tokenizers/estimate-token-count", "/batches"]))
def test_no_json_input_gives_a_server_error_elsewhere(http: httpx.Client, body: Any, path: str) -> None:
    response = http.post(path, content=json.dumps(body).encode())
    assert response.status_code in (400, 404), response.text


def test_limits_are_shared_by_the_keys_of_the_organisation() -> None:
    with serve_in_thread(MockConfig(lineup="all", rpm=1, api_keys=frozenset({"sk-a1234", "sk-b5678"}))) as server:
        first = httpx.get(server.api_base + "/models", headers={"Authorization": "Bearer sk-a1234"})
        second = httpx.get(server.api_base + "/models", headers={"Authorization": "Bearer sk-b5678"})
    assert (first.status_code, second.status_code) == (200, 429)
    assert "<ak-5678>" in second.json()["error"]["message"]


def test_integral_floats_are_integers(http: httpx.Client) -> None:
    """JSON Schema counts 2.0 as an integer; so does the mock (n, max_tokens)."""
    body = {"model": "kimi-k2-turbo-preview", "messages": user("hi"), "n": 2.0, "temperature": 0.5, "max_tokens": 3.0}
    response = http.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["choices"]) == 2 and response.json()["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize(
    "body",
    [b"[" * 5000 + b"]" * 5000, b'{"model": "kimi-k2.6", "n": ' + b"9" * 5000 + b"}"],
    ids=["nested-5000-deep", "integer-of-5000-digits"],
)
def test_malformed_json_the_parser_cannot_hold_is_a_400_not_a_500(http: httpx.Client, body: bytes) -> None:
    reply = http.post("/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.json()["error"]["type"] == "invalid_request_error"


def test_a_chunked_body_over_the_limit_is_refused_while_reading(http: httpx.Client) -> None:
    def pieces() -> Iterator[bytes]:
        piece = b" " * (1024 * 1024)
        for _ in range(110):  # 110 MiB with no Content-Length: the limit is 100 MB
            yield piece

    reply = http.post("/chat/completions", content=pieces(), headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and "larger than 100MB" in reply.json()["error"]["message"]
