"""A canary key of a shape no pattern knows, against a target that echoes it in bodies and headers: it appears in
0 bytes of every artifact of a run and of a proxy session (searched raw, base64 and URL-encoded), and of what
they print."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kimi_conformance.cli import cli
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.proxy import serve_proxy_in_thread
from kimi_conformance.redaction import forms_of, redact, register_secret
from tests.checks.exchanges import MODEL, USAGE, chunk_event, completion, done

CANARY = "gwkey_" + secrets.token_hex(12)
"""No `sk-` prefix, no known shape: only redaction by value can catch it."""


def forms(secret: str) -> list[bytes]:
    """What a leak would look like in a file: raw, base64 (alone or as a Bearer value), URL-encoded."""
    raw = secret.encode()
    return [
        raw,
        base64.b64encode(raw).rstrip(b"="),
        base64.b64encode(b"Bearer " + raw).rstrip(b"="),
        urllib.parse.quote(secret, safe="").encode(),
    ]


def leaks(folder: Path, *texts: str) -> list[str]:
    found = [f"{path.relative_to(folder)}" for path in folder.rglob("*") if path.is_file() and any(
        form in path.read_bytes() for form in forms(CANARY))]  # fmt: skip
    return found + [
        f"printed text #{i}" for i, text in enumerate(texts) if any(f.decode() in text for f in forms(CANARY))
    ]


async def echo(request: Request) -> Response:
    """Every answer carries the caller's Authorization value in its body and in a header."""
    auth = request.headers.get("authorization", "")
    headers = {"x-echo-auth": auth, "x-echo-b64": base64.b64encode(auth.encode()).decode()}
    path = request.url.path
    if path == "/v1/models":
        body = {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": auth}]}
        return JSONResponse(body, headers=headers)
    if path == "/v1/chat/completions" and request.method == "POST":
        try:
            sent = await request.json()
        except ValueError:  # the suite sends malformed bodies on purpose
            sent = {}
        if isinstance(sent, dict) and sent.get("stream"):
            events = [
                chunk_event({"index": 0, "delta": {"role": "assistant", "content": f"you are {auth}"}}),
                chunk_event({"index": 0, "delta": {}, "finish_reason": "stop", "usage": USAGE}),
                done(),
            ]
            return Response(b"".join(events), media_type="text/event-stream", headers=headers)
        answer = completion()
        answer["choices"][0]["message"]["content"] = f"you are {auth} ({urllib.parse.quote(auth, safe='')})"
        return JSONResponse(answer, headers=headers)
    error = {"error": {"type": "invalid_authentication_error", "message": f"echo: {auth}"}}
    return JSONResponse(error, status_code=401, headers=headers)


@pytest.fixture(scope="module")
def echo_target() -> Iterator[str]:
    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "DELETE"])])
    with running(LoopbackServer(app), "echo-target") as server:
        yield server.api_base


def test_redaction_covers_every_form_of_a_registered_key() -> None:
    other = "unit_" + secrets.token_hex(12)  # not the canary: the proxy test must learn that one by itself
    register_secret(other)
    text = " ".join(form.decode() for form in forms(other)) + f" {json.dumps(other)}"
    assert not any(form.decode() in redact(text) for form in forms(other))
    assert redact("short key x") == "short key x" and all(len(form) >= 8 for form in forms_of("abcdefgh"))


def test_a_run_writes_and_prints_no_byte_of_its_key(echo_target: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--target", echo_target, "--api-key-env", "CANARY"]
    command += ["--model", MODEL, "--profile", "quick", "--report-dir", "reports", "test_errors.py", "test_chat.py"]
    command += ["test_streaming.py::test_stream"]
    done_run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "CANARY": CANARY}
    )
    assert done_run.returncode == 1, done_run.stdout[-3000:]  # the echo target breaks the contract everywhere
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    assert results["findings"] and (tmp_path / "reports" / "latest" / "cassette.jsonl").stat().st_size > 1000
    assert leaks(tmp_path, done_run.stdout, done_run.stderr) == []


def test_a_proxy_session_writes_no_byte_of_its_clients_key(echo_target: str, tmp_path: Path) -> None:
    folder = tmp_path / "proxied"
    with serve_proxy_in_thread(echo_target, folder) as proxy:
        headers = {"Authorization": f"Bearer {CANARY}"}
        body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
        with httpx.Client(base_url=proxy, headers=headers, timeout=10) as client:
            assert CANARY in client.post("/chat/completions", json=body).text  # relayed unchanged
            assert CANARY in client.post("/chat/completions", json={**body, "stream": True}).text
            assert client.get(f"/files?key={CANARY}").status_code == 401
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len((folder / "cassette.jsonl").read_text().split("\n")) < 4:
            time.sleep(0.05)  # the proxy records an exchange after its last byte reached the client
    rendered = CliRunner().invoke(cli, ["report", str(folder)])
    assert rendered.exit_code == 0 and "verdict PASS" in rendered.output, rendered.output  # an echo is no defect
    assert (folder / "reports" / "latest" / "report.html").is_file() and (folder / "outcomes.jsonl").is_file()
    assert leaks(folder, rendered.output) == []
