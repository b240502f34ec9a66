"""The fidelity tally: K2VV's schema_accuracy per model and mode, the classes, the worst examples; parts merged in
any order give exactly what one process would; the `--min-schema-accuracy` gate (a percentage) in the settings, the
verdict and every report."""

from __future__ import annotations

import json
import random
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kimi_conformance.errors import ConfigError
from kimi_conformance.fidelity import CLASSES, Answer, FidelityTally, below_gate
from kimi_conformance.fidelity.tally import MAX_EXAMPLES
from kimi_conformance.report import RunResult, write_reports
from kimi_conformance.report.html import render_html
from kimi_conformance.report.markdown import render_markdown
from kimi_conformance.runner.merge import RunPart
from kimi_conformance.settings import Settings

VALID = {"ok": True, "wrong_tool": True}
"""K2VV's verdict per class for answers ending in tool_calls (all the others are invalid)."""


def answer(klass: str, stream: bool = False, finish: str | None = "tool_calls") -> Answer:
    valid = VALID.get(klass, False) if finish == "tool_calls" else None
    return Answer(klass, finish, valid, f"detail of {klass}", stream, "named")


def answers() -> list[tuple[str, Answer, str, str]]:
    """(model, answer, test id, case) of a small run with every class."""
    out = []
    for model in ("kimi-k2.6", "kimi-k3"):
        for i, klass in enumerate(CLASSES * 2):
            finish = "length" if klass == "truncated" else None if klass == "request_rejected" else "tool_calls"
            finish = "stop" if klass == "no_tool_call" and i % 2 else finish
            item = answer(klass, stream=bool(i % 2), finish=finish)
            out.append((model, item, f"suites/test_fidelity.py::t[{model}-{i:02d}]", f"case-{i}"))
    return out


def test_schema_accuracy_is_valid_over_answers_ending_in_tool_calls() -> None:
    tally = FidelityTally()
    for model, item, test, case in answers():
        tally.add(model, item, test, case)
    k3 = tally.as_json()["models"]["kimi-k3"]
    # ending in tool_calls: ok, unknown_tool, wrong_tool, invalid_json, schema_violation, twice each (no_tool_call
    # stopped, truncated ran out, request_rejected has none): valid are ok and wrong_tool
    assert (k3["answers"], k3["finish_tool_calls"], k3["valid_tool_calls"]) == (16, 10, 4)
    assert k3["schema_accuracy"] == 0.4
    assert k3["classes"] == dict.fromkeys(CLASSES, 2)
    assert k3["modes"]["json"]["answers"] == k3["modes"]["stream"]["answers"] == 8
    assert k3["tool_choice"] == {"named": 16}
    assert len(k3["worst"]) == MAX_EXAMPLES and [e["class"] for e in k3["worst"][:2]] == ["invalid_json"] * 2


def test_parts_merged_in_any_order_equal_one_process() -> None:
    """What xdist does: each worker tallies its share, the controller absorbs the parts (through their JSON)."""
    serial = FidelityTally()
    for model, item, test, case in answers():
        serial.add(model, item, test, case)
    shuffled = answers()
    random.Random(7).shuffle(shuffled)
    workers = [FidelityTally(), FidelityTally(), FidelityTally()]
    for n, (model, item, test, case) in enumerate(shuffled):
        workers[n % 3].add(model, item, test, case)
    merged = FidelityTally()
    for worker in reversed(workers):
        merged.absorb(FidelityTally.from_json(json.loads(json.dumps(worker.as_json()))))
    assert merged.as_json() == serial.as_json()


def test_run_parts_carry_the_tally(tmp_path: Path) -> None:
    first, second = RunPart(), RunPart()
    items = answers()
    for model, item, test, case in items[: len(items) // 2]:
        first.fidelity.add(model, item, test, case)
    for model, item, test, case in items[len(items) // 2 :]:
        second.fidelity.add(model, item, test, case)
    second.write(tmp_path / "parts", "gw1")
    first.absorb(tmp_path / "parts")
    serial = FidelityTally()
    for model, item, test, case in items:
        serial.add(model, item, test, case)
    assert first.fidelity.as_json() == serial.as_json()


def _fidelity(valid: int, total: int) -> dict[str, Any]:
    tally = FidelityTally()
    for i in range(total):
        tally.add("kimi-k3", answer("ok" if i < valid else "schema_violation"), f"t{i:03d}", f"c{i}")
    return tally.as_json()


def test_the_gate_is_a_percentage_compared_exactly() -> None:
    assert below_gate(_fidelity(20, 20), 100) == []
    assert below_gate(_fidelity(19, 20), 95) == []
    (line,) = below_gate(_fidelity(19, 20), 95.01)
    assert line == "kimi-k3: schema_accuracy 95.00 % (19/20) is below 95.01 %"
    none = FidelityTally()
    none.add("kimi-k3", answer("no_tool_call", finish="stop"), "t", "c")
    assert below_gate(none.as_json(), 0) == ["kimi-k3: no answer ended with finish_reason tool_calls (1 answers)"]


@pytest.mark.parametrize(
    ("value", "message"),
    [(0.95, "0.95 reads like a fraction \\(write 95 for 95 %\\)"), (1, "reads like a fraction"), (101, ", not 101")],
)
def test_the_gate_option_refuses_what_is_no_percentage(value: float, message: str) -> None:
    with pytest.raises(ConfigError, match=f"min-schema-accuracy is a percentage from 0 to 100.*{message}"):
        Settings().merged({"min_schema_accuracy": value})


def test_the_gate_option_takes_a_percentage_from_the_config_file(tmp_path: Path) -> None:
    assert Settings().merged({"min_schema_accuracy": 95}).min_schema_accuracy == 95.0
    assert Settings().merged({"min_schema_accuracy": 0}).min_schema_accuracy == 0.0
    (tmp_path / "kimi-conformance.toml").write_text("min-schema-accuracy = 99.5\n")
    from kimi_conformance.settings import read_config_file

    assert Settings().merged(read_config_file(tmp_path)).min_schema_accuracy == 99.5


def result(fidelity: dict[str, Any] | None, gate: float | None) -> RunResult:
    return RunResult("run-1", "mock", {}, [], 0.0, 1.0, fidelity=fidelity, min_schema_accuracy=gate)


def test_the_gate_fails_the_run_with_one_line_and_only_when_set() -> None:
    low = _fidelity(19, 20)
    assert (result(low, None).verdict, result(low, None).exit_code) == ("pass", 0)
    assert (result(low, 95).verdict, result(low, 95).exit_code) == ("pass", 0)
    failed = result(low, 100)
    assert (failed.verdict, failed.exit_code) == ("fail", 1)
    assert failed.verdict_reason == (
        "tool-call fidelity below --min-schema-accuracy 100: kimi-k3: schema_accuracy 95.00 % (19/20) is below 100 %"
    )
    assert result(None, 100).verdict == "pass"  # the fidelity suite did not run: nothing to gate
    assert failed.fidelity_lines()[-1].startswith("gate --min-schema-accuracy 100: FAILED: kimi-k3")


def test_every_report_shows_the_fidelity(tmp_path: Path) -> None:
    failed = result(_fidelity(19, 20), 100)
    data = failed.as_json()
    schema = json.loads((resources.files("kimi_conformance.report") / "results.schema.json").read_text())
    Draft202012Validator(schema).validate(data)
    Draft202012Validator(schema).validate(result(None, None).as_json())
    assert data["fidelity"]["gate"] == {"min_schema_accuracy": 100, "passed": False, "below": failed.below_gate}
    assert data["fidelity"]["models"]["kimi-k3"]["schema_accuracy"] == 0.95
    markdown = render_markdown(failed)
    assert "## Tool-call fidelity (K2VV schema_accuracy)" in markdown
    assert "| `kimi-k3` | 95.00 % | 19 / 20 |" in markdown
    assert "**schema_violation**" in markdown and "❌ failed: kimi-k3" in markdown
    html = render_html(failed)
    assert "Tool-call fidelity" in html and "<td>95.00 %</td>" in html and "Worst answers" in html
    assert "kimi-k3: schema_accuracy 95.00 % (19/20 answers ending in tool_calls valid" in failed.fidelity_lines()[0]
    folder = write_reports(failed, tmp_path)
    assert json.loads((folder / "results.json").read_text())["fidelity"]["gate"]["passed"] is False
    assert "Tool-call fidelity" not in render_markdown(result(None, None))
