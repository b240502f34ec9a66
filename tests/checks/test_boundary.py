"""The check boundary and the one blocking rule: a check that crashes is an outcome of its own and hides nothing;
what fails a test, a JUnit case and the exit code is one function of severity and strictness."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimi_conformance.checks import CHECKS, CheckContext, Status, run_checks
from kimi_conformance.checks.registry import Check
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity, Violation, blocks
from kimi_conformance.report import RunResult, write_reports
from kimi_conformance.runner.session import ConformanceSession
from tests.checks.exchanges import TOOL, chat_json, chat_stream, chunk_event, done


def oops_stream() -> Exchange:
    """A streamed tool call whose fragment carries `"function": "oops"`."""
    events = [
        chunk_event({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}),
        chunk_event({"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c:0", "type": "function",
                                                             "function": "oops"}]}}),
        chunk_event({"index": 0, "delta": {}, "finish_reason": "tool_calls",
                     "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}),
        done(),
    ]  # fmt: skip
    return chat_stream(events, tools=[TOOL])


@pytest.fixture
def crashing_check() -> Iterator[str]:
    """A registered check that always crashes (removed again afterwards)."""

    def always_crashes(ctx: CheckContext, exchange: Exchange) -> None:
        """Crashes."""
        raise KeyError("boom")

    CHECKS["TEST999"] = Check(
        "TEST999",
        "always_crashes",
        "Crashes",
        Severity.ERROR,
        "#/",
        "Crashes.",
        always_crashes,
        None,
        fact="facts §9 [D]",
    )
    yield "TEST999"
    del CHECKS["TEST999"]


def test_a_crashing_check_is_an_outcome_and_the_others_still_run(crashing_check: str) -> None:
    codes = {crashing_check, "HTTP002", "SCHM001", "CHAT004"}
    outcomes = run_checks(CheckContext(), chat_json(), codes, "t")
    assert {o.code for o in outcomes} == codes
    (crashed,) = [o for o in outcomes if o.status is Status.CRASHED]
    assert crashed.code == crashing_check and crashed.crash == "KeyError: 'boom'" and crashed.finding is None
    assert (
        crashed.crash_line()
        == "tool error: check TEST999 (always_crashes) crashed on createChatCompletion: KeyError: 'boom'"
    )
    assert json.loads(json.dumps(crashed.as_json()))["status"] == "crashed"


def test_function_oops_in_a_streamed_tool_call_crashes_chnk004_and_keeps_every_other_outcome() -> None:
    session = ConformanceSession(CheckContext(), frozenset(CHECKS))
    judgement = session.check(oops_stream(), "t")
    streamed = [o for o in session.outcomes if o.operation == "createChatCompletion"]
    assert [o.code for o in judgement.crashes] == ["CHNK004"]
    assert len({o.code for o in streamed}) == len([c for c in CHECKS.values() if c.applies_to("createChatCompletion")])
    assert {"CHAT009", "SCHM001"} <= judgement.codes  # the folded call names no tool: found all the same
    assert judgement.render().startswith("tool error: check CHNK004 (tool_call_fragments_well_formed) crashed")
    assert "Traceback" not in judgement.render()


def test_choices_as_a_string_is_judged_without_a_crash() -> None:
    session = ConformanceSession(CheckContext(), frozenset(CHECKS))
    judgement = session.check(
        chat_stream([b'data: {"id": "c", "object": "chat.completion.chunk", "choices": "abc"}\n\n', done()])
    )
    assert not judgement.crashes and {"CHNK002", "SCHM001"} <= judgement.codes


def test_a_crash_makes_the_verdict_error_and_the_exit_code_3(crashing_check: str, tmp_path: Path) -> None:
    outcomes = run_checks(CheckContext(), chat_json(), {crashing_check, "SCHM001"}, "t::x")
    result = RunResult("run-1", "mock", {}, outcomes, 1.0, 2.0)
    assert result.verdict == "error" and result.exit_code == 3 and "the tool itself erred" in result.verdict_reason
    folder = write_reports(result, tmp_path)
    case = next(c for c in ET.parse(folder / "junit.xml").getroot().iter("testcase") if "TEST999" in c.get("name", ""))
    assert case.find("error") is not None and case.find("failure") is None
    assert "crashed on createChatCompletion: KeyError" in (folder / "report.md").read_text()
    assert "Crashed checks" in (folder / "report.html").read_text()
    data = json.loads((folder / "results.json").read_text())
    assert data["crashes"][0]["code"] == "TEST999" and data["summary"]["crashed"] == 1


@pytest.mark.parametrize(
    ("severity", "strict", "blocking"),
    [
        (Severity.ERROR, False, True),
        (Severity.ERROR, True, True),
        (Severity.WARNING, False, False),
        (Severity.WARNING, True, True),
        (Severity.INFO, False, False),
        (Severity.INFO, True, False),
    ],
)
def test_one_blocking_rule_for_session_results_junit_and_exit_code(
    severity: Severity, strict: bool, blocking: bool, tmp_path: Path
) -> None:
    def flags(ctx: CheckContext, exchange: Exchange) -> None:
        """Flags."""
        raise Violation("Received: x\nExpected: y", severity=severity)

    CHECKS["TEST998"] = Check("TEST998", "flags", "Flags", severity, "#/", "Flags.", flags, None, fact="facts §9 [D]")
    try:
        session = ConformanceSession(CheckContext(), frozenset({"TEST998"}), strict=strict)
        assert bool(session.check(chat_json())) is blocking is blocks(severity, strict)
        result = RunResult("run-1", "mock", {}, session.outcomes, 1.0, 2.0, strict=strict)
        assert result.failing is blocking and result.exit_code == (1 if blocking else 0)
        root = ET.parse(write_reports(result, tmp_path) / "junit.xml").getroot()
        case = next(c for c in root.iter("testcase") if "TEST998" in c.get("name", ""))
        assert (case.find("failure") is not None) is blocking
        assert result.per_check()[-1].verdict == ("failed" if blocking else "warned")
    finally:
        del CHECKS["TEST998"]
