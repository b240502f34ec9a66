"""Verifying a compatible provider end to end: a chat-only vendor, a relay in front of the conformant mock that
serves `GET /v1/models` (listing the mock's kimi-k2.6 under the vendor's own id) and `POST /v1/chat/completions`
(the id translated both ways, streams included), and answers 404 for every other route, as vendors serving Kimi
models do. It records what it was sent. With `template_switch`, it speaks the dialect of vLLM and SGLang: thinking
is switched with `chat_template_kwargs.thinking`, and a `thinking` field is refused.

A quick run against it exits 0, says once which operations the vendor does not offer, and sends only the vendor's
model id; `--operations` decides instead of the probe when given; the thinking style and the extra body reach the
wire."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import MockConfig, serve_in_thread
from kimi_conformance.mock.errors import MODEL_NOT_FOUND
from kimi_conformance.rules import load_rules
from tests.runner.test_run import run

VENDOR_ID = "moonshotai/Kimi-K2.6"
MOCK_ID = "kimi-k2.6"
PASSED_ON = ("authorization", "content-type", "accept")


def not_found(model: str) -> Response:
    error = {"message": MODEL_NOT_FOUND.format(model=model), "type": "resource_not_found_error"}
    return JSONResponse({"error": error}, status_code=404)


class ChatOnlyVendor:
    """The relay; `paths` counts every request it got (`METHOD /path`), `bodies` keeps each chat body as sent."""

    def __init__(self, upstream: str, *, template_switch: bool = False) -> None:
        self.upstream = upstream.rstrip("/")
        self.template_switch = template_switch
        self.paths: Counter[str] = Counter()
        self.bodies: list[Any] = []
        routes = [
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
        ]
        self.app = Starlette(routes=routes)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths[f"{scope['method']} {scope['path']}"] += 1
        await self.app(scope, receive, send)

    def _headers(self, request: Request) -> dict[str, str]:
        return {k: v for k, v in request.headers.items() if k.lower() in PASSED_ON}

    async def models(self, request: Request) -> Response:
        async with httpx.AsyncClient(timeout=30) as client:
            upstream = await client.get(f"{self.upstream}/v1/models", headers=self._headers(request))
        if upstream.status_code != 200:
            return Response(upstream.content, upstream.status_code, media_type="application/json")
        listing = upstream.json()
        listing["data"] = [{**m, "id": VENDOR_ID} for m in listing["data"] if m.get("id") == MOCK_ID]
        return JSONResponse(listing)

    def _for_mock(self, body: dict[str, Any]) -> dict[str, Any] | Response:
        """The body the mock is sent, or the vendor's own refusal."""
        model = body.get("model")
        if isinstance(model, str) and model != VENDOR_ID:
            return not_found(model)  # the vendor serves its one model
        sent = {**body, "model": MOCK_ID} if model == VENDOR_ID else dict(body)
        if self.template_switch:
            if "thinking" in sent:
                message = "Invalid request: thinking is not a field of this server; use chat_template_kwargs"
                return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, 400)
            kwargs = sent.pop("chat_template_kwargs", None)
            switch = kwargs.get("thinking") if isinstance(kwargs, dict) else None
            if isinstance(switch, bool):
                sent["thinking"] = {"type": "enabled" if switch else "disabled"}
            sent.pop("top_k", None)  # a sampling field of the open-source stacks the mock does not know
        return sent

    async def chat(self, request: Request) -> Response:
        content = await request.body()
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        self.bodies.append(body)
        if isinstance(body, dict):
            decided = self._for_mock(body)
            if isinstance(decided, Response):
                return decided
            content = json.dumps(decided).encode()
        client = httpx.AsyncClient(timeout=60)
        upstream = await client.send(
            client.build_request(
                "POST", f"{self.upstream}/v1/chat/completions", headers=self._headers(request), content=content
            ),
            stream=True,
        )

        async def close() -> None:
            await upstream.aclose()
            await client.aclose()

        kind = upstream.headers.get("content-type", "")
        headers = {k: v for k, v in upstream.headers.items() if k.lower().startswith(("x-", "retry-after"))}
        if kind.startswith("text/event-stream"):
            return StreamingResponse(
                _renamed_events(upstream), upstream.status_code, headers, kind, background=BackgroundTask(close)
            )
        raw = await upstream.aread()
        await close()
        return Response(_renamed(raw), upstream.status_code, headers, kind or None)


def _renamed(raw: bytes) -> bytes:
    """A JSON answer with the mock's model id as the vendor's (anything else unchanged)."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(answer, dict) and answer.get("model") == MOCK_ID:
        answer["model"] = VENDOR_ID
        return json.dumps(answer).encode()
    return raw


async def _renamed_events(upstream: httpx.Response) -> AsyncIterator[bytes]:
    async for line in upstream.aiter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            line = "data: " + _renamed(line[6:].encode()).decode()
        yield (line + "\n").encode()


@contextmanager
def chat_only_vendor(*, template_switch: bool = False) -> Iterator[tuple[ChatOnlyVendor, str]]:
    """The relay in front of a fresh mock, on loopback: (the relay, its base URL)."""
    with serve_in_thread(MockConfig(batch_step_seconds=0.05)) as mock:
        vendor = ChatOnlyVendor(mock.base_url, template_switch=template_switch)
        with running(LoopbackServer(vendor), "chat-only-vendor") as server:  # type: ignore[arg-type]
            yield vendor, server.api_base


KEY = "sk-kimi-conformance-mock"
VENDOR = ("--model-family", f"{VENDOR_ID}={MOCK_ID}", "--api-key-env", "KIMI_VENDOR_KEY")
ENV = {"KIMI_VENDOR_KEY": KEY}
UNKNOWN_MODEL = "no-such-model-kimi"
"""The errors suite's model that no one serves (a 404 is what it asks for): no model id of the contract."""
OTHERS = ["estimate", "files", "batches", "balance"]
"""The operation groups a chat-only vendor does not offer."""


@pytest.fixture
def vendor() -> Iterator[tuple[ChatOnlyVendor, str]]:
    with chat_only_vendor() as relay:
        yield relay


def sent_models(folder: Path) -> Counter[str]:
    """The `model` of every JSON request body in a run's cassette (a body without one counts as `-`)."""
    models: Counter[str] = Counter()
    for line in (folder / "cassette.jsonl").read_text("utf-8").splitlines():
        try:
            body = json.loads(json.loads(line)["request"] or "null")
        except ValueError:
            continue  # a multipart upload, or generated bytes that are not JSON
        if isinstance(body, dict):
            models[str(body.get("model", "-"))] += 1
    return models


def test_a_quick_run_against_a_chat_only_vendor_passes_saying_what_it_does_not_offer(
    tmp_path: Path, vendor: tuple[ChatOnlyVendor, str]
) -> None:
    """The issue's run: `--model-family moonshotai/Kimi-K2.6=kimi-k2.6 --profile quick` against a vendor that serves
    models and chat only exits 0; every other operation is reported not offered, once; only the vendor's id is
    sent, by every suite (generated contract cases included); its tokens are priced as kimi-k2.6's."""
    relay, target = vendor
    returncode, results, output = run(tmp_path, "--target", target, *VENDOR, "--profile", "quick", env=ENV)
    assert returncode == 0 and results["verdict"] == "pass", output[-3000:]
    operations = results["operations"]
    assert operations["exercised"] == ["models", "chat"] and operations["not_offered"] == OTHERS
    assert operations["reasons"]["files"] == "GET /files answered 404"
    line = [text for text in output.splitlines() if text.startswith("operations: ")]
    assert line == [
        "operations: 2 exercised (models, chat); not offered: "
        "estimate (POST /tokenizers/estimate-token-count answered 404), files (GET /files answered 404), "
        "batches (GET /batches answered 404), balance (GET /users/me/balance answered 404)"
    ]
    folder = tmp_path / "reports" / "latest"
    assert "Operations: 2 exercised (models, chat); not offered: estimate" in (folder / "report.md").read_text()
    assert "<p>Operations: 2 exercised (models, chat); not offered: estimate" in (folder / "report.html").read_text()
    probes = {path: relay.paths[path] for path in relay.paths if not path.endswith(("/models", "/chat/completions"))}
    assert probes == {
        "GET /v1/files": 1,
        "GET /v1/batches": 1,
        "GET /v1/users/me/balance": 1,
        "POST /v1/tokenizers/estimate-token-count": 1,
    }  # the operations probe, once each; nothing else was sent there
    sent = sent_models(folder)  # every suite's requests, the rules probes and the generated contract cases alike
    # `-`: a chat body without `model`, the coverage phase's negative case of a missing required property
    assert set(sent) - {"-"} == {VENDOR_ID, UNKNOWN_MODEL} and sent[VENDOR_ID] > 150, sent.most_common(8)
    assert not set(sent) & set(load_rules().models)  # no contract id, translated or not
    received = Counter(str(body.get("model")) for body in relay.bodies if isinstance(body, dict))
    assert set(received) - {"None"} == {VENDOR_ID, UNKNOWN_MODEL}, received.most_common(8)
    tests = results["summary"]["tests"]
    assert tests.get("failed", 0) == 0 and tests["passed"] > 100
    spent = results["spending"]
    assert spent["unpriced_models"] == [] and spent["estimated_cost_usd"] > 0, spent
    chat011 = next(check for check in results["checks"] if check["code"] == "CHAT011")
    assert chat011["passed"] == 0 and chat011["not_applicable"] >= 1  # no estimate to compare with: not applicable


def test_operations_named_explicitly_are_exercised_and_a_404_there_is_the_targets_failure(
    tmp_path: Path, vendor: tuple[ChatOnlyVendor, str]
) -> None:
    relay, target = vendor
    returncode, results, output = run(
        tmp_path, "--target", target, *VENDOR, "--operations", "files", "test_files.py", env=ENV
    )
    assert returncode == 1 and results["verdict"] == "fail", output[-3000:]
    assert {f["operation"] for f in results["findings"] if f["severity"] == "error"} == {"uploadFile"}
    assert relay.paths["POST /v1/files"] == 1  # sent, not skipped
    assert not {"GET /v1/users/me/balance", "GET /v1/batches", "GET /v1/files"} & set(relay.paths)  # no probe
    operations = results["operations"]
    assert operations["exercised"] == ["files"] and operations["declared"] is True
    assert operations["reasons"] == dict.fromkeys(operations["not_offered"], "--operations files")


def test_a_chat_only_run_sends_nothing_to_the_other_operations_not_even_a_probe(
    tmp_path: Path, vendor: tuple[ChatOnlyVendor, str]
) -> None:
    relay, target = vendor
    suites = ("test_files.py", "test_batches.py", "test_errors.py", "test_models.py")
    returncode, results, output = run(
        tmp_path, "--target", target, *VENDOR, "--operations", "chat-only", "-rs", *suites, env=ENV
    )
    assert returncode == 0 and results["verdict"] == "pass", output[-3000:]
    assert set(relay.paths) == {"GET /v1/models", "POST /v1/chat/completions"}, relay.paths
    assert "files: not offered (--operations chat-only)" in output
    assert results["operations"]["not_offered"] == OTHERS
    assert "operations: 2 exercised (models, chat); not offered: estimate (--operations chat-only)" in output


def test_the_operations_probe_is_sent_once_per_run_and_handed_to_the_workers(
    tmp_path: Path, vendor: tuple[ChatOnlyVendor, str]
) -> None:
    relay, target = vendor
    returncode, results, output = run(
        tmp_path, "--target", target, *VENDOR, "-n", "2", "test_files.py", "test_models.py", "-rs", env=ENV
    )
    assert returncode == 0, output[-3000:]
    assert relay.paths == {
        "GET /v1/models": 2,  # the run's probe (the controller's), and test_models_list
        "GET /v1/files": 1,
        "GET /v1/batches": 1,
        "GET /v1/users/me/balance": 1,
        "POST /v1/tokenizers/estimate-token-count": 1,
        "POST /v1/chat/completions": 1,  # no messages: refused with 400, so chat is offered
    }
    assert results["summary"]["tests"] == {"passed": 1, "skipped": 1}
    assert "files: not offered (GET /files answered 404)" in output
    assert results["spending"]["requests"] == sum(relay.paths.values())  # within the budget, each counted


THINKING = ("test_chat.py::test_thinking_disabled", "test_streaming.py::test_stream_thinking_disabled")
EXTRA = '{"top_k": 20, "chat_template_kwargs": {"enable_reasoning": true}}'


def test_the_thinking_style_and_the_extra_body_reach_the_wire(tmp_path: Path) -> None:
    """Against a vLLM-style vendor (thinking switched by `chat_template_kwargs`, a `thinking` field refused): with
    `--thinking-style chat-template-kwargs` the switch arrives its way with the extra body merged in, the checks
    still judge the answer as a request with thinking off (CHAT010 passes), and the cassette shows what was sent.
    In the contract's own dialect the same vendor refuses the requests."""
    options = ("--thinking-style", "chat-template-kwargs", "--extra-body", EXTRA, "--operations", "chat-only")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with chat_only_vendor(template_switch=True) as (relay, target):
        returncode, results, output = run(tmp_path / "a", "--target", target, *VENDOR, *options, *THINKING, env=ENV)
        assert returncode == 0 and results["verdict"] == "pass", output[-3000:]
        assert len(relay.bodies) == 2 and all("thinking" not in body for body in relay.bodies)
        assert [body["chat_template_kwargs"] for body in relay.bodies] == [
            {"enable_reasoning": True, "thinking": False}
        ] * 2
        assert all(body["top_k"] == 20 and body["model"] == VENDOR_ID for body in relay.bodies)
        chat010 = next(check for check in results["checks"] if check["code"] == "CHAT010")
        assert chat010["passed"] == 2, chat010  # what was asked (thinking off) is what the answer is judged by
        cassette = (tmp_path / "a" / "reports" / "latest" / "cassette.jsonl").read_text("utf-8").splitlines()
        chats = [line for line in map(json.loads, cassette) if line["url"].endswith("/chat/completions")]
        assert len(chats) == 2 and all(json.loads(line["request"]) in relay.bodies for line in chats)

        returncode, results, output = run(tmp_path / "b", "--target", target, *VENDOR, "--operations", "chat-only",
                                          *THINKING, env=ENV)  # fmt: skip
    assert returncode == 1 and "thinking is not a field of this server" in output, output[-3000:]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--operations", "chat,nope"), "--operations: unknown name 'nope'; groups: models, chat, estimate, files"),
        (("--extra-body", "[1]"), "--extra-body must be a JSON object, not list"),
        (("--thinking-style", "vllm"), "'vllm' is not one of 'kimi', 'chat-template-kwargs'"),
    ],
    ids=["unknown-operation", "extra-body-not-an-object", "unknown-thinking-style"],
)
def test_bad_vendor_options_are_one_line_usage_errors(tmp_path: Path, option: tuple[str, str], message: str) -> None:
    """Through the CLI (the settings' own checks: `test_vendor_surface.py`)."""
    returncode, _, output = run(tmp_path, *option, "test_models.py")
    assert returncode == 4 and message in output and "Traceback" not in output, output[-2000:]
