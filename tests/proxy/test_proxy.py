"""The validating proxy: the official `openai` SDK goes through it to the mock; traffic passes unchanged (streams
byte for byte), the checks run on the side, and `kimi-conformance report` renders what it recorded."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kimi_conformance.checks import CHECKS
from kimi_conformance.cli import cli
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.proxy import read_outcomes, serve_proxy_in_thread, upstream_url
from tests.checks.exchanges import USAGE, chunk_event, done

BODY = {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 20}


@pytest.fixture
def proxied(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    faults = frozenset(getattr(request, "param", ()))
    with (
        serve_in_thread(MockConfig(lineup="all", faults=faults)) as mock,
        serve_proxy_in_thread(mock.api_base, tmp_path) as url,
    ):
        yield url


def recorded(folder: Path, exchanges: int) -> None:
    """Wait until the proxy has checked `exchanges` exchanges: it does so after the last byte went to the client."""
    deadline = time.monotonic() + 10
    cassette = folder / "cassette.jsonl"
    while time.monotonic() < deadline:
        if cassette.is_file() and len(cassette.read_text().splitlines()) >= exchanges:
            return
        time.sleep(0.01)
    raise AssertionError(f"the proxy recorded fewer than {exchanges} exchanges")


def codes(folder: Path, exchanges: int = 1) -> set[str]:
    recorded(folder, exchanges)
    return {o["code"] for o in read_outcomes(folder) if o["finding"] is not None}


def test_the_sdk_works_through_the_proxy_and_nothing_is_found_on_the_mock(proxied: str, tmp_path: Path) -> None:
    with openai.OpenAI(base_url=proxied, api_key=DEFAULT_API_KEY) as client:
        reply = client.chat.completions.create(**BODY)  # type: ignore[call-overload]
        assert reply.choices[0].message.content
        options = {"include_usage": True}
        stream = client.chat.completions.create(**BODY, stream=True, stream_options=options)  # type: ignore[call-overload]
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert [m.id for m in client.models.list()][:1] == ["moonshot-v1-8k"]
    assert codes(tmp_path, 3) == set() and len(read_outcomes(tmp_path)) > 50
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 0 and "verdict PASS" in result.output
    assert (tmp_path / "reports" / "latest" / "report.html").is_file()


def test_streams_pass_byte_for_byte(proxied: str, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.stream(
        "POST", proxied + "/chat/completions", json={**BODY, "stream": True}, headers=headers
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        received = b"".join(response.iter_raw())
    recorded(tmp_path, 1)
    record = json.loads((tmp_path / "cassette.jsonl").read_text().splitlines()[-1])
    assert received.endswith(b"data: [DONE]\n\n") and record["body"].encode() == received
    assert record["request_headers"]["authorization"] == "[REDACTED]"


@pytest.mark.parametrize("proxied", [("stream-omit-done", "usage-total-wrong")], indirect=True)
def test_a_faulty_upstream_is_relayed_unchanged_and_its_findings_recorded(proxied: str, tmp_path: Path) -> None:
    with openai.OpenAI(base_url=proxied, api_key=DEFAULT_API_KEY) as client:
        assert client.chat.completions.create(**BODY).usage.total_tokens  # type: ignore[call-overload]
        assert list(client.chat.completions.create(**BODY, stream=True))  # type: ignore[call-overload]
    assert {"SSE003", "CHAT004"} <= codes(tmp_path, 2)
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 1 and "verdict FAIL" in result.output


def test_a_crashing_check_never_breaks_the_traffic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a check crashed")

    monkeypatch.setattr("kimi_conformance.runner.session.ConformanceSession.check", explode)
    with serve_in_thread(MockConfig(lineup="all")) as mock, serve_proxy_in_thread(mock.api_base, tmp_path) as url:
        reply = httpx.post(url + "/chat/completions", json=BODY, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
    assert reply.status_code == 200 and reply.json()["object"] == "chat.completion"


def test_an_unreachable_upstream_is_a_502_and_a_finding(tmp_path: Path) -> None:
    with serve_proxy_in_thread("http://127.0.0.1:9/v1", tmp_path) as url:
        reply = httpx.get(url + "/models", headers={"Authorization": "Bearer x"})
    assert reply.status_code == 502 and "HTTP001" in codes(tmp_path)


@pytest.mark.parametrize("proxied", [("rule-ignored:stop.max-count",)], indirect=True)
def test_model_rules_are_judged_on_observed_requests(proxied: str, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    reply = httpx.post(proxied + "/chat/completions", json={**BODY, "stop": list("abcdef")}, headers=headers)
    assert reply.status_code == 200  # the faulty upstream serves six stop sequences; the client gets that answer
    assert "RULE001" in codes(tmp_path)


TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def tool_calls_ending_with_stop() -> bytes:
    fragment = {
        "index": 0,
        "id": "get_weather:0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
    }
    return b"".join([
        chunk_event({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}),
        chunk_event({"index": 0, "delta": {"tool_calls": [fragment]}, "finish_reason": None}),
        chunk_event({"index": 0, "delta": {}, "finish_reason": "stop", "usage": USAGE}),
        done(),
    ])  # fmt: skip


def test_a_proxied_stream_is_folded_and_faces_the_non_streaming_checks(tmp_path: Path) -> None:
    """A stream whose folded completion ends its tool calls with `stop` is recorded as CHAT003, the
    non-streaming check of finish_reason against tool calls (beside the stream's own CHNK005)."""

    async def chat(request: Request) -> Response:
        return Response(tool_calls_ending_with_stop(), media_type="text/event-stream")

    upstream = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    body = {**BODY, "tools": [TOOL], "stream": True}
    with (
        running(LoopbackServer(upstream), "upstream") as server,
        serve_proxy_in_thread(server.api_base, tmp_path) as proxy,
    ):
        with httpx.stream(
            "POST", proxy + "/chat/completions", json=body, headers={"Authorization": "Bearer k"}
        ) as reply:
            assert reply.read().endswith(b"data: [DONE]\n\n")
        found = codes(tmp_path)
    assert {"CHAT003", "CHNK005"} <= found, found
    record = json.loads((tmp_path / "cassette.jsonl").read_text().split("\n")[0])
    assert record["response_headers"]["content-type"].startswith("text/event-stream")  # the stream, not the fold


@pytest.mark.parametrize("proxied", [("json-mode-ignored",)], indirect=True)
def test_a_proxied_json_mode_stream_of_prose_is_chat008(proxied: str, tmp_path: Path) -> None:
    """JSON mode is judged on the whole message, which only the fold has: no stream check could find this."""
    with openai.OpenAI(base_url=proxied, api_key=DEFAULT_API_KEY) as client:
        json_mode = {"response_format": {"type": "json_object"}, "max_completion_tokens": 64}
        assert list(client.chat.completions.create(**{**BODY, **json_mode}, stream=True))  # type: ignore[call-overload]
    assert "CHAT008" in codes(tmp_path)


def test_a_crashed_check_is_recorded_by_the_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crashes(ctx: object, exchange: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(CHECKS, "CHAT004", dataclasses.replace(CHECKS["CHAT004"], function=crashes))
    with serve_in_thread(MockConfig(lineup="all")) as mock, serve_proxy_in_thread(mock.api_base, tmp_path) as url:
        reply = httpx.post(url + "/chat/completions", json=BODY, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
        assert reply.status_code == 200
        recorded(tmp_path, 1)
    crashed = [o for o in read_outcomes(tmp_path) if o["status"] == "crashed"]
    assert [(o["code"], o["crash"]) for o in crashed] == [("CHAT004", "ZeroDivisionError: division by zero")]
    assert len(read_outcomes(tmp_path)) > 10  # the other checks of the exchange still ran
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 3 and "verdict ERROR" in result.output, result.output


@pytest.mark.parametrize(
    ("raw_path", "upstream_path"),
    [
        (b"/v1/chat/completions", b"/api/v1/chat/completions"),
        (b"/v1@127.0.0.1:9/files", None),  # would have named another host
        (b"/v1:9/files", None),  # would have named another port
        (b"/v1/../../admin", None),
        (b"/v1/files/..%2F..%2Fadmin", b"/api/v1/files/..%2F..%2Fadmin"),  # raw: the upstream reads it as data
        (b"/v1/files/%0E", b"/api/v1/files/%0E"),
    ],
)
def test_a_request_can_never_change_the_upstream_origin_or_leave_its_base_path(
    raw_path: bytes, upstream_path: bytes | None
) -> None:
    base = httpx.URL("http://127.0.0.1:8123/api/v1")
    if upstream_path is None:
        with pytest.raises(ValueError):
            upstream_url(base, raw_path, b"")
        return
    url = upstream_url(base, raw_path, b"a=1")
    assert (url.scheme, url.host, url.port) == ("http", "127.0.0.1", 8123)
    assert url.raw_path == upstream_path + b"?a=1"


def test_odd_paths_are_answered_not_crashed_and_recorded(proxied: str, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.Client(headers=headers, timeout=10) as client:
        assert client.get(proxied.replace("/v1", "/v1@127.0.0.1:9") + "/models").status_code == 400
        odd = client.get(proxied + "/files/%0E")
        assert odd.status_code == 404 and "Traceback" not in odd.text
        assert client.get(proxied + "/no/such/route").status_code == 404
    recorded(tmp_path, 2)
    operations = {
        json.loads(line)["operation"] for line in (tmp_path / "cassette.jsonl").read_text().split("\n") if line
    }
    assert "unknownRoute" in operations
