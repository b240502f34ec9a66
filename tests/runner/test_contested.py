"""A target that answers as the facts' contested alternative is right too: a relay in front of the conformant mock
takes the other side of every contest (facts §3.6, §11.3, §12), and a whole run against it gives warnings only."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
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
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from tests.runner.test_run import run

HOP_BY_HOP = {"connection", "transfer-encoding", "content-length", "keep-alive", "host"}


def refusal(message: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=400)


class ContestedRelay:
    """Relays everything to the mock, but answers the contested requests the other way (and counts them):
    - `tool_choice: "required"` on a K2 model not thinking: refused, as the January 2026 guide says;
    - `required` on kimi-k3: served (KVV's K3 tests: it forces a call), where the mock refuses it;
    - a named `tool_choice` on kimi-k3: silently ignored (KVV), where the mock refuses it;
    - a `thinking` object on kimi-k3: refused (the reasoning-effort guide: it does not apply), where the mock
      takes it;
    - an unknown `reasoning_effort`: silently ignored (a client's live report), where the mock refuses it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.taken: Counter[str] = Counter()
        self.app = Starlette(routes=[Route("/{path:path}", self.relay, methods=["GET", "POST", "DELETE"])])

    def contested(self, body: dict[str, Any]) -> Response | dict[str, Any] | None:
        """A refusal, a rewritten body for the mock, or None to relay as is."""
        model, choice = str(body.get("model", "")), body.get("tool_choice")
        thinking = body.get("thinking")
        k3 = model.startswith("kimi-k3")
        if k3 and "thinking" in body:
            self.taken["thinking-object-k3"] += 1
            return refusal("Invalid request: thinking is not supported for this model, use reasoning_effort")
        disabled = isinstance(thinking, dict) and thinking.get("type") == "disabled"
        if model.startswith("kimi-k2") and choice == "required" and body.get("tools") and disabled:
            self.taken["required-k2"] += 1
            return refusal("Invalid request: tool_choice 'required' is not supported")
        rewritten = dict(body)
        if k3 and ((choice == "required" and body.get("tools")) or isinstance(choice, dict)):
            self.taken["tool-choice-k3"] += 1
            rewritten["tool_choice"] = "auto"
        if "reasoning_effort" in body and body["reasoning_effort"] not in ("low", "high", "max"):
            self.taken["unknown-effort"] += 1
            del rewritten["reasoning_effort"]
        return rewritten if rewritten != body else None

    async def relay(self, request: Request) -> Response:
        content = await request.body()
        if request.url.path.endswith("/chat/completions") and request.method == "POST":
            try:
                body = json.loads(content)
            except ValueError:
                body = None
            decision = self.contested(body) if isinstance(body, dict) else None
            if isinstance(decision, Response):
                return decision
            if decision is not None:
                content = json.dumps(decision).encode()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        client = httpx.AsyncClient(timeout=30)
        raw_path, query = request.scope["raw_path"].decode("latin-1"), request.scope["query_string"].decode("latin-1")
        url = self.upstream + raw_path + (f"?{query}" if query else "")
        upstream = await client.send(
            client.build_request(request.method, url, headers=headers, content=content), stream=True
        )

        async def close() -> None:
            await upstream.aclose()
            await client.aclose()

        answer = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(upstream.aiter_raw(), upstream.status_code, answer, background=BackgroundTask(close))


@pytest.fixture
def relay() -> Iterator[tuple[ContestedRelay, str]]:
    with serve_in_thread(MockConfig(batch_step_seconds=0.05)) as mock:
        relay = ContestedRelay(mock.base_url)
        with running(LoopbackServer(relay.app), "contested-relay") as server:
            yield relay, server.api_base


@pytest.mark.slow
def test_the_contested_alternative_gives_warnings_only(tmp_path: Path, relay: tuple[ContestedRelay, str]) -> None:
    contested, target = relay
    returncode, results, output = run(
        tmp_path,
        "--target", target, "--api-key-env", "KIMI_TEST_KEY",
        "--model", "kimi-k3", "--model", "kimi-k2.6", "--profile", "quick", "-n", "2",
        env={"KIMI_TEST_KEY": DEFAULT_API_KEY},
    )  # fmt: skip
    assert {"thinking-object-k3", "tool-choice-k3", "required-k2"} <= set(contested.taken), contested.taken
    findings = results["findings"]
    assert returncode == 0 and results["verdict"] in ("pass", "warned"), output[-3000:]
    assert findings and {f["severity"] for f in findings} == {"warning"}, [
        (f["code"], f["severity"], f["message"][:200]) for f in findings if f["severity"] != "warning"
    ]
    assert any("contest" in f["message"] for f in findings)
