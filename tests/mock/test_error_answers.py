"""The documented errors the mock gives only when told to (facts §9, §10): `--error NAME` (403
permission_denied_error, 400 content_filter, 429 engine_overloaded_error, 500 server_error, 504), `--tpm` / `--tpd`
(429 rate_limit_reached_error with the TPM / TPD messages), each with its status, type, exact message and the
common envelope, over real HTTP and through the official `openai` SDK; and `--latency` spent holding the
concurrency slot."""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx
import openai
import pytest

from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.mock.ratelimit import DEFAULT_MAX_TOKENS
from tests.checks.documented_errors import DOCUMENTED, TPD_MESSAGE, TPM_MESSAGE, Documented
from tests.conftest import user

MODEL = "kimi-k2.6"
HEADERS = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
KEY_TAIL = DEFAULT_API_KEY[-4:]
SDK_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    403: openai.PermissionDeniedError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    504: openai.InternalServerError,
}


def chat_body(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": user("Say OK"), **extra}


def send(client: httpx.Client, operation: str) -> httpx.Response:
    """One valid request of `operation` (the ones the documented errors are sent on)."""
    if operation == "createChatCompletion":
        return client.post("/chat/completions", json=chat_body())
    if operation == "uploadFile":
        return client.post("/files", files={"file": ("notes.txt", b"hello")}, data={"purpose": "file-extract"})
    assert operation == "listModels"
    return client.get("/models")


@contextlib.contextmanager
def sdk_on(config: MockConfig) -> Iterator[openai.OpenAI]:
    """The official SDK, without retries, on a mock started with `config`."""
    with (
        serve_in_thread(config) as server,
        openai.OpenAI(base_url=server.api_base, api_key=DEFAULT_API_KEY, max_retries=0, timeout=10) as client,
    ):
        yield client


def sdk_send(client: openai.OpenAI, operation: str) -> Any:
    if operation == "createChatCompletion":
        return client.chat.completions.create(model=MODEL, messages=cast(Any, user("Say OK")))
    if operation == "uploadFile":
        return client.files.create(file=("notes.txt", b"hello"), purpose=cast(Any, "file-extract"))
    return client.models.list()


@pytest.fixture
def served() -> Iterator[Callable[[MockConfig], httpx.Client]]:
    """`served(config)`: an httpx client on a mock started with `config` (both closed at the end of the test)."""
    with contextlib.ExitStack() as stack:

        def start(config: MockConfig) -> httpx.Client:
            server = stack.enter_context(serve_in_thread(config))
            return stack.enter_context(httpx.Client(base_url=server.api_base, headers=HEADERS, timeout=10))

        yield start


Served = Callable[[MockConfig], httpx.Client]


def assert_documented(response: httpx.Response, status: int, error_type: str, message: str) -> None:
    """The status, `Content-Type: application/json` and exactly `{"error": {"message", "type"}}`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": {"message": message, "type": error_type}}


@pytest.mark.parametrize("answer", DOCUMENTED, ids=[d.name for d in DOCUMENTED])
def test_each_documented_error_is_answered_as_documented(served: Served, answer: Documented) -> None:
    client = served(MockConfig(error=answer.name))
    for _ in range(2):  # every request of its routes, not only the first
        assert_documented(send(client, answer.operation), answer.status, answer.type, answer.message)
    assert "retry-after" not in send(client, answer.operation).headers  # none is documented for these


@pytest.mark.parametrize("answer", DOCUMENTED, ids=[d.name for d in DOCUMENTED])
def test_each_documented_error_is_the_sdk_exception_of_its_status(answer: Documented) -> None:
    with sdk_on(MockConfig(error=answer.name)) as client, pytest.raises(openai.APIStatusError) as caught:
        sdk_send(client, answer.operation)
    error = caught.value
    assert type(error) is SDK_ERRORS[answer.status]
    assert (error.status_code, error.type) == (answer.status, answer.type)
    assert error.body == {"message": answer.message, "type": answer.type}
    assert error.message == f"Error code: {answer.status} - {answer.message}"


def test_an_error_count_answers_the_first_requests_only(served: Served) -> None:
    client = served(MockConfig(error="engine-overloaded", error_count=2))
    statuses = [client.post("/chat/completions", json=chat_body()).status_code for _ in range(4)]
    assert statuses == [429, 429, 200, 200]


def test_error_answers_keep_to_their_routes(served: Served) -> None:
    overloaded = served(MockConfig(error="engine-overloaded", error_count=1))
    assert overloaded.get("/models").status_code == 200  # not a chat request: served, and not counted
    assert overloaded.post("/chat/completions", json=chat_body()).status_code == 429
    extraction = served(MockConfig(error="server-error"))
    assert extraction.post("/chat/completions", json=chat_body()).status_code == 200
    assert send(extraction, "uploadFile").status_code == 500
    denied = served(MockConfig(error="permission-denied"))
    for response in (denied.get("/users/me/balance"), denied.post("/chat/completions", json=chat_body())):
        assert_documented(response, 403, "permission_denied_error", "The API you are accessing is not open")


def test_error_answers_come_after_authentication() -> None:
    with serve_in_thread(MockConfig(error="content-filter")) as server:
        refused = httpx.post(server.api_base + "/chat/completions", json=chat_body())
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "invalid_authentication_error"


def test_an_unknown_error_answer_is_a_configuration_error() -> None:
    from kimi_conformance.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown error answer 'teapot'"):
        MockConfig(error="teapot")


# ---------------------------------------------------------------------------------------------------- TPM, TPD


def projected(client: httpx.Client, body: dict[str, Any]) -> int:
    """What a chat request counts at TPM/TPD admission: its prompt tokens + its max_tokens (or the default)."""
    estimate = client.post(
        "/tokenizers/estimate-token-count", json={"model": body["model"], "messages": body["messages"]}
    )
    return int(estimate.json()["data"]["total_tokens"]) + int(body.get("max_tokens") or DEFAULT_MAX_TOKENS)


@pytest.mark.parametrize(("limit", "template"), [("tpm", TPM_MESSAGE), ("tpd", TPD_MESSAGE)])
def test_token_limits_answer_the_documented_429(served: Served, limit: str, template: str) -> None:
    body = chat_body(max_tokens=40)
    probe = served(MockConfig())
    cost = projected(probe, body)
    client = served(MockConfig(tpm=2 * cost) if limit == "tpm" else MockConfig(tpd=2 * cost))
    assert [client.post("/chat/completions", json=body).status_code for _ in range(2)] == [200, 200]
    refused = client.post("/chat/completions", json=body)
    message = template.format(key=KEY_TAIL, current=3 * cost, limit=2 * cost)
    assert_documented(refused, 429, "rate_limit_reached_error", message)
    assert "retry-after" not in refused.headers  # the TPM/TPD messages name no time to wait (facts §9)
    assert client.get("/models").status_code == 200  # tokens are counted on chat requests only


def test_a_request_without_max_tokens_counts_the_default(served: Served) -> None:
    body = chat_body()
    client = served(MockConfig(tpm=DEFAULT_MAX_TOKENS))
    refused = client.post("/chat/completions", json=body)
    message = TPM_MESSAGE.format(key=KEY_TAIL, current=projected(client, body), limit=DEFAULT_MAX_TOKENS)
    assert_documented(refused, 429, "rate_limit_reached_error", message)
    assert client.post("/chat/completions", json=chat_body(max_tokens=16)).status_code == 200


def test_a_token_limit_is_a_rate_limit_error_in_the_sdk() -> None:
    with sdk_on(MockConfig(tpm=100)) as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=cast(Any, user("Say OK")), max_tokens=200)
    assert caught.value.type == "rate_limit_reached_error"
    assert "request reached organization TPM rate limit, current:" in caught.value.message
    assert caught.value.message.endswith(", limit:100")


# ---------------------------------------------------------------------------------------------------- latency


def test_latency_is_spent_holding_the_concurrency_slot() -> None:
    """Three requests at once, one slot, 0.5 s latency: one is served, the two others get the documented 429."""
    with serve_in_thread(MockConfig(max_concurrency=1, latency=0.5)) as server:
        start = threading.Barrier(3)

        def one(_: int) -> httpx.Response:
            with httpx.Client(base_url=server.api_base, headers=HEADERS, timeout=10) as client:
                start.wait()
                return client.post("/chat/completions", json=chat_body())

        began = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(one, range(3)))
        elapsed = time.monotonic() - began
        after = httpx.get(server.api_base + "/models", headers=HEADERS)
    assert sorted(r.status_code for r in answers) == [200, 429, 429], [r.text for r in answers]
    for refused in (r for r in answers if r.status_code == 429):
        message = f"Your account org-mock<ak-{KEY_TAIL}> request reached organization max concurrency: 1, "
        assert_documented(refused, 429, "rate_limit_reached_error", message + "please try again after 1 seconds")
        assert refused.headers["retry-after"] == "1"
    assert 0.5 <= elapsed < 3.0
    assert after.status_code == 200  # the slot is free again once the answer is written


def test_a_client_that_leaves_during_the_latency_frees_its_slot() -> None:
    with serve_in_thread(MockConfig(max_concurrency=1, latency=0.5)) as server:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(server.api_base + "/models", headers=HEADERS, timeout=0.1)
        deadline = time.monotonic() + 3
        while (status := httpx.get(server.api_base + "/models", headers=HEADERS).status_code) == 429:
            assert time.monotonic() < deadline, "the slot of a request whose client left was never released"
            time.sleep(0.05)
    assert status == 200


def test_the_tpm_window_is_a_minute_and_the_tpd_window_a_day() -> None:
    from kimi_conformance.mock import ratelimit
    from kimi_conformance.mock.errors import ApiError

    now = [1000.0]
    limiter = ratelimit.RateLimiter("org-mock", None, None, tpm=100, tpd=150, clock=lambda: now[0])
    limiter.admit_tokens("sk-x1234", 80)
    with pytest.raises(ApiError, match=r"TPM rate limit, current:110, limit:100$"):
        limiter.admit_tokens("sk-x1234", 30)
    now[0] += ratelimit.WINDOW_SECONDS
    limiter.admit_tokens("sk-x1234", 30)  # a minute later the TPM window holds 30, the day 110
    with pytest.raises(
        ApiError, match=r"<ak-1234> request reached organization TPD rate limit, current:160, limit:150$"
    ):
        limiter.admit_tokens("sk-x1234", 50)
    now[0] += ratelimit.DAY_SECONDS
    limiter.admit_tokens("sk-x1234", 100)  # a day later both windows are empty again
