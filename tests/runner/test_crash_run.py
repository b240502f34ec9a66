"""A whole run against a target whose streamed tool call carries `"function": "oops"`: the crashing check is an
outcome of its own, every other outcome of the exchange is kept, the verdict says the tool erred (exit 3), and
the reports are written; no traceback anywhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kimi_conformance.checks import CHECKS
from kimi_conformance.loopback import LoopbackServer, running
from tests.checks.exchanges import MODEL, USAGE, chunk_event, completion, done


def oops_events() -> bytes:
    fragment = {"index": 0, "id": "get_weather:0", "type": "function", "function": "oops"}
    return b"".join(
        [
            chunk_event({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}),
            chunk_event({"index": 0, "delta": {"tool_calls": [fragment]}, "finish_reason": None}),
            chunk_event({"index": 0, "delta": {}, "finish_reason": "tool_calls", "usage": USAGE}),
            done(),
        ]
    )


async def models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "moonshot"}]})


async def chat(request: Request) -> Response:
    body = await request.json()
    if body.get("stream"):
        return Response(oops_events(), media_type="text/event-stream")
    return JSONResponse(completion())


@pytest.fixture(scope="module")
def oops_target() -> Iterator[str]:
    app = Starlette(routes=[Route("/v1/models", models), Route("/v1/chat/completions", chat, methods=["POST"])])
    with running(LoopbackServer(app), "oops-target") as server:
        yield server.api_base


def test_a_crashing_check_makes_a_tool_error_verdict_with_every_other_outcome(oops_target: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--target", oops_target, "--api-key-env", "OOPS_KEY"]
    command += ["--model", MODEL, "--report-dir", "reports", "test_streaming.py::test_stream_tool_call"]
    done_run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "OOPS_KEY": "oops-key"}
    )
    output = done_run.stdout + done_run.stderr
    assert done_run.returncode == 3, output[-3000:]
    assert "tool error: check CHNK004 (tool_call_fragments_well_formed) crashed" in output
    assert "Traceback" not in output and not re.search(r"\.py:\d+: \w", output), output[-3000:]
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text("utf-8"))
    assert results["verdict"] == "error" and [c["code"] for c in results["crashes"]] == ["CHNK004"]
    chat_checks = [c for c in CHECKS.values() if c.applies_to("createChatCompletion")]
    judged = {c["code"] for c in results["checks"] if c["passed"] + c["failed"] + c["not_applicable"] + c["crashed"]}
    assert judged >= {c.code for c in chat_checks}  # every other check of the exchange has its outcome
    assert {f["code"] for f in results["findings"]} >= {"CHAT009"}  # the folded call names no requested tool
    assert (tmp_path / "reports" / "latest" / "report.html").is_file()
