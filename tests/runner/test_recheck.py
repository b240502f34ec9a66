"""`kimi-conformance recheck CASSETTE`: a recorded run or proxy session judged again with today's checks, offline.

Recorded against a faulty mock, then rechecked in a child process that is refused every socket: the findings are
the run's, exactly (code, operation, message, request, test and the rest), a plain exchange and a stream alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from kimi_conformance.cassette import exchange_of, record_of
from kimi_conformance.cli import cli
from kimi_conformance.exchange import Exchange, External
from kimi_conformance.findings import Severity
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.proxy import read_outcomes, serve_proxy_in_thread

OFFLINE = """
import sys

def refuse(event, args):
    if event.startswith("socket.") or event == "http.client.connect":
        raise RuntimeError(f"recheck opened a socket ({event})")

sys.addaudithook(refuse)
from kimi_conformance.cli import main
sys.argv = ["kimi-conformance", *sys.argv[1:]]
main()
"""
"""The command line in a process where opening, binding or connecting any socket raises: recheck needs none."""
FINDING_KEY = ("code", "operation", "message", "request", "test")


def run(where: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """`kimi-conformance run` against the embedded mock, from `where`."""
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", *args]
    done = subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    return done.returncode, _results(where / "reports"), done.stdout + done.stderr


def recheck(where: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """`kimi-conformance recheck` offline (no socket can be opened, no key is set), from `where`."""
    env = {name: value for name, value in os.environ.items() if name != "MOONSHOT_API_KEY"}
    command = [sys.executable, "-c", OFFLINE, "recheck", "--report-dir", "rechecks", *args]
    done = subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=120, env=env)
    return done.returncode, _results(where / "rechecks"), done.stdout + done.stderr


def _results(root: Path) -> dict[str, Any]:
    path = root / "latest" / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def keys(results: dict[str, Any]) -> set[tuple[str, ...]]:
    return {tuple(finding[name] for name in FINDING_KEY) for finding in results["findings"]}


def whole(results: dict[str, Any]) -> list[str]:
    return sorted(json.dumps(finding, sort_keys=True) for finding in results["findings"])


SUITES = ("--model", "kimi-k2.6", "--profile", "quick", "test_chat.py", "test_streaming.py")


def test_the_offline_guard_refuses_any_socket(tmp_path: Path) -> None:
    """What makes the rechecks below a proof: in that process, a command that opens a socket fails."""
    done = subprocess.run([sys.executable, "-c", OFFLINE, "mock", "--port", "0"], capture_output=True, text=True)
    assert done.returncode != 0 and "recheck opened a socket (socket.__new__)" in done.stderr


def test_a_recheck_of_a_faulty_mock_run_finds_exactly_what_the_run_found(tmp_path: Path) -> None:
    """A plain exchange's fault (usage arithmetic) and a stream's (bytes that are no UTF-8: the cassette must keep
    the stream byte for byte). About 10 s: two quick runs of two suites, three rechecks."""
    faults = ("--mock-fault", "usage-total-wrong", "--mock-fault", "stream-invalid-utf8")
    ran, results, output = run(tmp_path, *faults, *SUITES)
    assert ran == 1, output[-3000:]
    found = keys(results)
    streamed = {key for key in found if "stream=true" in key[3]}
    assert {key[0] for key in found - streamed} >= {"CHAT004"} and {key[0] for key in streamed} >= {"SSE002"}

    code, rechecked, output = recheck(tmp_path, "reports/latest")
    assert code == ran, output
    assert keys(rechecked) == found and whole(rechecked) == whole(results)  # evidence, replay, severity too
    assert [c for c in rechecked["checks"] if c["passed"] or c["failed"]] == [
        c for c in results["checks"] if c["passed"] or c["failed"]
    ]
    compared = rechecked["recheck"]["compared"]
    assert (compared["same"], compared["new"], compared["gone"]) == (len(found), [], [])
    assert f"{len(found)} found again, 0 new, 0 gone" in output and "offline" in output
    assert rechecked["recorded"]["unjudged"] == results["recorded"]["unjudged"]  # what the run did not judge

    code, again, _ = recheck(tmp_path, str(next((tmp_path / "rechecks").glob("recheck-*"))))  # its own cassette
    assert code == ran and whole(again) == whole(results)

    baseline = [sys.executable, "-m", "kimi_conformance", "baseline", "create", "reports/latest", "-o", "known.toml"]
    subprocess.run(baseline, cwd=tmp_path, check=True, capture_output=True)
    code, known, output = recheck(tmp_path, "reports/latest", "--baseline", "known.toml")  # what CI gates on
    assert code == 0 and known["verdict"] == "pass" and keys(known) == found, output

    code, today, output = recheck(tmp_path, "reports/latest/cassette.jsonl", "--exclude-checks", "CHAT004")
    assert keys(today) == {key for key in found if key[0] != "CHAT004"}
    assert today["recheck"]["compared"]["gone"] and all(
        g.startswith("CHAT004") for g in today["recheck"]["compared"]["gone"]
    )


def test_a_recheck_of_a_clean_mock_run_finds_nothing(tmp_path: Path) -> None:
    ran, results, output = run(tmp_path, *SUITES)
    assert ran == 0 and results["findings"] == [], output[-3000:]
    code, rechecked, output = recheck(tmp_path, "reports/latest")
    assert code == 0 and rechecked["findings"] == [] and rechecked["verdict"] == "pass", output
    assert rechecked["summary"]["outcomes"] == results["summary"]["outcomes"]


def test_a_retried_attempt_is_judged_again_as_the_run_judged_it(tmp_path: Path) -> None:
    """`--attempts 2`: a first attempt's behavioural findings are info, the last attempt's count; pass@k too."""
    ran, results, output = run(tmp_path, "--attempts", "2", "--mock-fault", "tool-args-invalid", *SUITES)
    assert ran == 1 and any(f["severity"] == "info" for f in results["findings"]), output[-3000:]
    code, rechecked, output = recheck(tmp_path, "reports/latest")
    assert code == 1 and whole(rechecked) == whole(results), output
    assert rechecked["pass_at_k"] == results["pass_at_k"] and results["pass_at_k"]["CHAT009"]["k"] == 2


def _recorded(folder: Path, exchanges: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cassette = folder / "cassette.jsonl"
        if cassette.is_file() and len(cassette.read_text().splitlines()) >= exchanges:
            return
        time.sleep(0.01)
    raise AssertionError(f"the proxy recorded fewer than {exchanges} exchanges")


def test_a_recheck_of_a_proxy_session_finds_what_the_proxy_found(tmp_path: Path) -> None:
    folder = tmp_path / "proxy"
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 20}
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    faults = frozenset({"usage-total-wrong", "stream-role-repeated"})
    with serve_in_thread(MockConfig(faults=faults)) as mock, serve_proxy_in_thread(mock.api_base, folder) as url:
        assert httpx.post(url + "/chat/completions", json=body, headers=headers).status_code == 200
        assert httpx.post(url + "/chat/completions", json={**body, "stream": True}, headers=headers).is_success
        _recorded(folder, 2)
    proxied = {(o["code"], o["finding"]["message"]) for o in read_outcomes(folder) if o["finding"]}
    assert {code for code, _ in proxied} >= {"CHAT004", "CHNK002"}
    code, rechecked, output = recheck(tmp_path, str(folder))
    assert code == 1, output
    assert {(f["code"], f["message"]) for f in rechecked["findings"]} == proxied
    assert rechecked["recheck"]["recorded"] == "proxy" and "(proxy)" in output


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ('{"operation": "listModels"}\n{"test": \n', "line 1: not a cassette line (method is missing)"),
        ("not json\n", "line 1: not a cassette line ("),
        ('{"operation": "x", "method": "GET", "url": "u", "status": "200"}\n', "(status is str, not int)"),
        ('{"operation": "x", "method": "GET", "url": "u", "status": 200}\n', "no `intent`): it cannot be judged"),
        ("", "holds no exchange"),
    ],
)
def test_a_malformed_cassette_is_one_line_and_exit_4(tmp_path: Path, lines: str, why: str) -> None:
    (tmp_path / "cassette.jsonl").write_text(lines, "utf-8")
    result = CliRunner().invoke(cli, ["recheck", str(tmp_path), "--report-dir", str(tmp_path / "rechecks")])
    assert result.exit_code == 4, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ") and why in result.output
    assert not (tmp_path / "rechecks").exists()


def test_a_folder_without_a_cassette_is_one_line_and_exit_4(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["recheck", str(tmp_path)])
    assert result.exit_code == 4 and result.output == (
        f"Error: cannot read the cassette {tmp_path / 'cassette.jsonl'}: No such file or directory\n"
    )


def test_a_cassette_line_keeps_what_the_checks_read() -> None:
    """Round trip of one line: bytes that are no UTF-8, a request whose text was cut, what it was meant to be,
    schemathesis's verdicts, the exchanges it is compared with, and when it came."""
    estimate = Exchange("estimateTokenCount", "POST", "http://h/v1/e", {}, status=200, body=b'{"data": {}}')
    long_request = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "x" * 5000}]}
    exchange = Exchange(
        "createChatCompletion",
        "POST",
        "http://h/v1/chat/completions",
        {"content-type": "application/json"},
        request_json=long_request,
        request_text=json.dumps(long_request)[:4000],
        status=200,
        response_headers={"content-type": "text/event-stream"},
        body=b"data: {\xff\xfe}\n\n",
        intent="invalid",
        rule=("sampling.temperature", "temperature=2"),
        external=[External("SCHM002", "accepted", Severity.WARNING), ("AUTH001", "ignored")],
        related={"estimate": estimate},
        received_at=1_700_000_000.5,
    )
    line = json.loads(json.dumps(record_of(exchange, "t", only={"ERR001"}, attempt=(2, 3))))
    rebuilt = exchange_of(line)
    assert rebuilt.body == exchange.body and rebuilt.request_json == long_request
    assert (rebuilt.intent, rebuilt.rule, rebuilt.received_at) == ("invalid", exchange.rule, 1_700_000_000.5)
    assert rebuilt.external == [External("SCHM002", "accepted", Severity.WARNING), External("AUTH001", "ignored")]
    assert rebuilt.related["estimate"].body == estimate.body and rebuilt.related["estimate"].status == 200
    assert (line["test"], line["only"], line["attempt"]) == ("t", ["ERR001"], [2, 3])


def test_generated_text_keeps_a_cassette_line_one_line_and_exact() -> None:
    """Generated bodies hold any character: a line separator, a lone surrogate. The line stays one line (even for
    `str.splitlines`), writable as UTF-8, and the request and schemathesis's message come back as they were."""
    drawn = {"messages": [{"role": "user", "content": "a\u2028b\udc80"}], "file": b"\x00\x01"}
    exchange = Exchange(
        "createChatCompletion",
        "POST",
        "http://h/v1/chat/completions",
        {},
        request_json=drawn,
        request_text="<multipart/form-data body, 2 bytes>",
        external=[External("SCHM002", "Accepted negative data: 'a\u2028b\udc80'")],
    )
    text = json.dumps(record_of(exchange), ensure_ascii=False)
    assert len(text.splitlines()) == 1 and text.encode("utf-8")
    rebuilt = exchange_of(json.loads(text))
    assert rebuilt.request_json == {**drawn, "file": "<2 bytes>"}  # bytes are not JSON: their size stands in
    assert rebuilt.external == [External("SCHM002", "Accepted negative data: 'a\u2028b\udc80'")]
