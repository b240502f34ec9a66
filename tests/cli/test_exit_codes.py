"""Every exit code, each from a real run or a real command (README, *Exit codes*): 0 pass; 1 new blocking findings;
2 incomplete (a budget stop, a quota stop, a target that does not answer at all); 3 the tool itself failed (a
check crashed); 4 a usage error (a bad option, config file or baseline), one line, never a traceback. The runs use
the quick profile, one model and one suite module: a few seconds each."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import MockConfig, serve_in_thread
from kimi_conformance.report.results import EXIT_CODES
from tests.checks.exchanges import MODEL
from tests.kimi_cli import FAULT_B, QUICK, kimi, run
from tests.runner.test_crash_run import chat, models

KEY = "sk-exit-codes-test-key-0123456789"


def test_0_a_conformant_target_passes(tmp_path: Path) -> None:
    ran = run(tmp_path, *QUICK, "test_chat.py")
    assert ran.code == 0 and ran.results["verdict"] == "pass", ran.output[-3000:]


def test_1_blocking_findings_fail(tmp_path: Path) -> None:
    ran = run(tmp_path, *QUICK, "--mock-fault", FAULT_B, "test_chat.py")
    assert ran.code == 1 and ran.results["verdict"] == "fail", ran.output[-3000:]


def test_2_a_budget_stop_is_incomplete(tmp_path: Path) -> None:
    ran = run(tmp_path, *QUICK, "--max-requests", "3", "test_chat.py")
    assert ran.code == 2, ran.output[-3000:]
    assert ran.results["verdict"] == "incomplete" and ran.results["budget_reached"].startswith("request budget")


def test_2_a_quota_stop_is_incomplete_not_a_finding(tmp_path: Path) -> None:
    with serve_in_thread(MockConfig(api_keys=frozenset({KEY}), out_of_quota=True)) as mock:
        ran = run(tmp_path, "--target", mock.api_base, "--api-key-env", "EXIT_KEY", *QUICK, "test_chat.py",
                  env={"EXIT_KEY": KEY})  # fmt: skip
    assert ran.code == 2, ran.output[-3000:]
    assert ran.results["verdict"] == "incomplete" and "exceeded_current_quota_error" in ran.results["budget_reached"]
    assert "Traceback" not in ran.output


def test_2_a_target_that_does_not_answer_at_all_is_incomplete(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on: connections are refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ran = run(tmp_path, "--target", f"http://127.0.0.1:{port}/v1", "--api-key-env", "EXIT_KEY", *QUICK,
              "test_chat.py", env={"EXIT_KEY": KEY})  # fmt: skip
    assert ran.code == 2, ran.output[-3000:]
    results = ran.results
    assert results["verdict"] == "incomplete" and results["target_unusable"].startswith("the target http://127.0.0.1")
    assert "HTTP001" in {f["code"] for f in results["findings"]}  # why, recorded as the probe's finding
    assert "verdict INCOMPLETE (the target could not be used: " in ran.output


@pytest.fixture(scope="module")
def crashing_target() -> Iterator[str]:
    """A target whose streamed tool call makes a check crash (`tests/runner/test_crash_run.py`)."""
    app = Starlette(routes=[Route("/v1/models", models), Route("/v1/chat/completions", chat, methods=["POST"])])
    with running(LoopbackServer(app), "crashing-target") as server:
        yield server.api_base


def test_3_a_crashed_check_is_the_tool_failing(tmp_path: Path, crashing_target: str) -> None:
    ran = run(tmp_path, "--target", crashing_target, "--api-key-env", "EXIT_KEY", "--model", MODEL,
              "test_streaming.py::test_stream_tool_call", env={"EXIT_KEY": KEY})  # fmt: skip
    assert ran.code == 3 and ran.results["verdict"] == "error", ran.output[-3000:]


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["run", "--profile", "extreme"], {}, "Invalid value for '--profile'"),
        (["run", "--baseline", "missing.toml", "test_models.py"], {}, "baseline missing.toml: cannot be read"),
        (["run", "--baseline", "bad.toml", "test_models.py"], {"bad.toml": "version = 1\n[[finding]\n"},
         "baseline bad.toml: not valid TOML"),
        (["run", "test_models.py"], {"kimi-conformance.toml": 'profile = "extreme"\n'}, "profile must be one of"),
        (["compare", "."], {}, "not a run folder with a readable results.json"),
        (["baseline", "create", "."], {}, "not a run folder with a readable results.json"),
        (["report", "."], {"outcomes.jsonl": "{not json\n"}, "is not a proxy recording"),
        (["mock", "--port", "many"], {}, "'many' is not a valid integer"),
    ],
)  # fmt: skip
def test_4_a_usage_error_is_one_line(tmp_path: Path, args: list[str], files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    ran = kimi(tmp_path, *args)
    assert ran.code == 4, ran.output[-3000:]
    assert message in ran.output and "Traceback" not in ran.output


def test_the_codes_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} |" in section, (code, meaning)
