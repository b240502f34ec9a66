"""Baselines, in process: the fingerprint's normaliser, the baseline file (written, read back, refused when
malformed with one line), the split of a run's findings into new, known, fixed and not checked, `baseline update`
keeping the reasons a person wrote, and every report showing the split."""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kimi_conformance.checks import CheckContext, Outcome, Status, run_checks
from kimi_conformance.cli import cli
from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import Evidence, Finding, Severity
from kimi_conformance.report import RunResult, write_reports
from kimi_conformance.report.baseline import (
    Baseline,
    BaselineEntry,
    entries_of,
    read_baseline,
    render_baseline,
    updated,
)
from kimi_conformance.report.fingerprint import Fingerprint, fingerprint, model_of, normalise
from tests.checks.exchanges import chat_request, completion, exchange

CHAT = "createChatCompletion"


def finding(code: str, message: str, *, model: str = "kimi-k2.6", severity: Severity = Severity.ERROR) -> Finding:
    request = f'POST /v1/chat/completions model="{model}"' if model else "GET /v1/models"
    return Finding(code, "name", "title", severity, "#/x", CHAT, message, request, Evidence(200), "curl ...", "t::x")


@pytest.mark.parametrize(
    ("message", "subject"),
    [
        ("Received: created 1796187827959, the time now in milliseconds\nExpected: Unix seconds (1796187827)",
         "Received: created <n>, the time now in milliseconds\nExpected: Unix seconds (<n>)"),
        ("Received: a list without 9jvyw7kyydzmra1fgn85\nExpected: the uploaded file listed",
         "Received: a list without <id>\nExpected: the uploaded file listed"),
        ("Received: batch_0a1b2c3d4e5f6a7b8c9d0e1f and file-abcdefghijklmnop still listed",
         "Received: batch_<id> and file-<id> still listed"),
        ("Received: no response (ConnectError to http://127.0.0.1:54321/v1/models)",
         "Received: no response (ConnectError to <origin>/v1/models)"),
        ("at 2026-12-02T04:57:58.123Z, from 10.0.0.7:8443, request 0b9e3c4a-8f1d-4c2e-9a7b-1d2e3f4a5b6c",
         "at <time>, from <host>, request <uuid>"),
        ('Received: content "The sea is wide and deep tonight"\nExpected: a JSON object (json_object)',
         'Received: content "<text>"\nExpected: a JSON object (json_object)'),
        ('Received: {"error": {"message": "bad value 7"}} finish_reason \'stop\'',
         'Received: {"error": {"message": "<text>"}} finish_reason \'stop\''),
        ("Received: HTTP 500 for kimi-k2.6, moonshot-v1-128k, kimi-k2-0905-preview; utf-8 n=2",
         "Received: HTTP 500 for kimi-k2.6, moonshot-v1-128k, kimi-k2-0905-preview; utf-8 n=<n>"),
        ('Received: arguments "{\\"city\\": \\"Par...', 'Received: arguments "<text>"...'),
    ],
)  # fmt: skip
def test_the_subject_keeps_the_defect_and_drops_what_changes_between_runs(message: str, subject: str) -> None:
    assert normalise(message) == subject


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(60, 200))
def test_an_excerpt_cut_short_gives_one_subject_wherever_the_cut_falls(prompt: int, completion: int, cut: int) -> None:
    """A check cuts what it received at a fixed length, so the cut moves with the digits before it: whatever
    the cut leaves of the excerpt is no part of the subject (one defect, one fingerprint, in every run)."""
    usage = json.dumps([{"prompt_tokens": prompt, "completion_tokens": completion, "prompt_tokens_details": {}}])
    excerpt = usage[: min(cut, len(usage) - 1)]
    message = f"Received: 1 usage object(s) in choice 0: {excerpt}...\nExpected: one, in the finishing chunk"
    assert (
        normalise(message)
        == "Received: <n> usage object(s) in choice <n>: <cut>...\nExpected: one, in the finishing chunk"
    )
    assert normalise("Received: the text goes on and o...") == "Received: <cut>..."
    assert normalise("Received: total 38 ... and more") == "Received: total <n> ... and more"  # prose, not a cut


@given(
    ident=st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=20, max_size=20),
    port=st.integers(1, 65535),
    millis=st.integers(10**12, 10**13 - 1),
    text=st.lists(st.text(st.characters(codec="utf-8", exclude_characters='"\\\n'), min_size=1), min_size=2).map(
        " ".join
    ),
)
def test_generated_values_never_change_the_subject(ident: str, port: int, millis: int, text: str) -> None:
    message = f'Received: {ident} at http://127.0.0.1:{port}/v1, created {millis}, content "{text}"\nExpected: ok'
    assert normalise(message) == 'Received: <id> at <origin>/v1, created <n>, content "<text>"\nExpected: ok'


def test_the_subject_tells_different_defects_apart() -> None:
    assert normalise("Received: HTTP 500") != normalise("Received: HTTP 502")
    assert normalise("Received: finish_reason 'stop'") != normalise("Received: finish_reason 'length'")
    assert normalise('Received: model "kimi-k2_6"') != normalise('Received: model "kimi-k3"')


def test_the_model_is_the_requests_own_or_empty() -> None:
    assert model_of('POST /v1/chat/completions model="kimi-k2.6" stream=true n=2') == "kimi-k2.6"
    assert model_of("POST /v1/chat/completions model=null") == "" and model_of("GET /v1/models") == ""
    fp = fingerprint(finding("CHAT004", "Received: total 38\nExpected: total 37"))
    assert fp == Fingerprint("CHAT004", CHAT, "kimi-k2.6", "Received: total <n>\nExpected: total <n>")
    assert fp.id.startswith("CHAT004-") and len(fp.id) == len("CHAT004-") + 12
    assert len({fp.id, Fingerprint("CHAT004", CHAT, "kimi-k3", fp.subject).id}) == 2


@given(st.text(), st.text())
def test_any_text_survives_the_file(subject: str, reason: str) -> None:
    entry = BaselineEntry(Fingerprint("CHAT004", CHAT, "kimi-k2.6", subject), reason, "error", 3, subject, "t::x")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "baseline.toml"
        path.write_text(render_baseline([entry], "From a test."), "utf-8")
        assert read_baseline(path).entries == (entry,)


ENTRY = '[[finding]]\ncode = "CHAT004"\noperation = "createChatCompletion"\nmodel = ""\nsubject = "s"\nreason = ""\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"version = 1\n[[finding]\n", "not valid TOML: "),
        (b"\xff\xfeversion", "not UTF-8 (byte 0)"),
        (b"[[finding]]\n", "`version = 1` expected, not None"),
        (b"version = 2\n", "`version = 1` expected, not 2"),
        (b"version = 1\nentries = []\n", "unknown key(s) entries"),
        (b"version = 1\nfinding = 3\n", "`finding` must be an array of tables"),
        (b"version = 1\n" + ENTRY.replace('subject = "s"\n', "").encode(), "entry 1 (CHAT004): `subject` is missing"),
        (b"version = 1\n" + ENTRY.replace('reason = ""', "reason = 3").encode(), "`reason` must be a string, not 3"),
        (b"version = 1\n" + ENTRY.encode() + b"reasn = 'typo'\n", "entry 1 (CHAT004): unknown key(s) reasn"),
        (b"version = 1\n" + ENTRY.replace("CHAT004", "chat4").encode(), "`code` must be a check code"),
        (b"version = 1\n" + ENTRY.encode() + b"count = 'many'\n", "`count` must be an integer"),
        (b"version = 1\n" + (ENTRY * 2).encode(), "entry 2 repeats an earlier one (CHAT004 createChatCompletion: s)"),
    ],
)
def test_a_malformed_baseline_is_one_line_naming_the_file(tmp_path: Path, text: bytes, message: str) -> None:
    path = tmp_path / "baseline.toml"
    path.write_bytes(text)
    with pytest.raises(ConfigError) as raised:
        read_baseline(path)
    assert str(raised.value).startswith(f"baseline {path}: ") and message in str(raised.value)
    assert "\n" not in str(raised.value)
    with pytest.raises(ConfigError, match="cannot be read"):
        read_baseline(tmp_path / "missing.toml")


def known(*findings: Finding, reason: str = "") -> Baseline:
    return Baseline("b.toml", tuple(BaselineEntry(fingerprint(f), reason) for f in findings))


def test_findings_split_into_new_known_fixed_and_not_checked() -> None:
    a = finding("CHAT015", "Received: created 1796187827959\nExpected: Unix seconds")
    b = finding("CHAT001", 'Received: model "kimi-k2_6"')
    gone = finding("CHAT004", "Received: total 38\nExpected: total 37")
    elsewhere = finding("FILE001", "Received: a list without abcdefgh12345678")
    warning = finding("CHAT011", "Received: 5 fewer", severity=Severity.WARNING)
    baseline = known(a, gone, elsewhere)
    again = finding("CHAT015", "Received: created 1796187999999\nExpected: Unix seconds")  # another run's clock
    checked = frozenset({("CHAT015", CHAT), ("CHAT004", CHAT), ("CHAT001", CHAT)})
    split = baseline.split([again, b, warning], strict=False, checked=checked)
    assert split.known == (again,) and split.new == (b,)  # a warning does not block: neither new nor known
    assert [e.fingerprint.code for e in split.fixed] == ["CHAT004"]
    assert [e.fingerprint.code for e in split.unchecked] == ["FILE001"]  # the run never judged FILE001 on its op
    assert baseline.split([again, b, warning], strict=True, checked=checked).new == (b, warning)
    assert split.counts() == "1 new, 1 known, 1 fixed, 1 not checked"
    assert baseline.split([], False, frozenset({("FILE001", "")})).fixed[-1].fingerprint.code == "FILE001"


def test_update_keeps_the_reasons_adds_the_new_and_drops_the_fixed() -> None:
    a = finding("CHAT015", "Received: created 1796187827959")
    gone = finding("CHAT004", "Received: total 38")
    elsewhere = finding("FILE001", "Received: a list without abcdefgh12345678")
    baseline = known(a, gone, elsewhere, reason="vendor ticket 42")
    b = finding("CHAT001", 'Received: model "kimi-k2_6"')
    checked = frozenset({("CHAT015", CHAT), ("CHAT004", CHAT), ("CHAT001", CHAT)})
    change = updated(baseline, [finding("CHAT015", "Received: created 1796188000000"), b], False, checked)
    assert [(e.fingerprint.code, e.reason) for e in change.entries] == [
        ("CHAT015", "vendor ticket 42"),
        ("FILE001", "vendor ticket 42"),  # not checked by this run: kept as it was
        ("CHAT001", ""),  # new: for a person to fill
    ]
    assert [e.fingerprint.code for e in change.added] == ["CHAT001"]
    assert [e.fingerprint.code for e in change.dropped] == ["CHAT004"] and change.entries[0].count == 1
    assert entries_of([a, a, b])[1].count == 2  # one entry per fingerprint, counting its findings


def run_result(baseline: Baseline | None) -> RunResult:
    """Two real checks' findings on one served completion (`created` in milliseconds, the model not echoed)."""
    served = exchange(CHAT, completion(created=1796187827959, model="kimi-k2_6"), request=chat_request())
    outcomes = run_checks(CheckContext(), served, {"CHAT001", "CHAT015", "CHAT004"}, "suites/test_chat.py::t")
    return RunResult("run-1", "mock", {"profile": "quick"}, outcomes, 1.0, 2.0, baseline=baseline)


def test_every_report_shows_new_known_and_fixed(tmp_path: Path) -> None:
    plain = run_result(None)
    assert {f.code for f in plain.findings} == {"CHAT001", "CHAT015"} and plain.exit_code == 1
    chat015 = next(f for f in plain.findings if f.code == "CHAT015")
    stale = BaselineEntry(Fingerprint("CHAT004", CHAT, "kimi-k2-turbo-preview", "Received: total <n>"), "")
    baseline = Baseline("b.toml", (BaselineEntry(fingerprint(chat015), "ms clock, ticket 7"), stale))
    result = run_result(baseline)
    assert result.verdict == "fail" and result.exit_code == 1
    assert (
        result.verdict_reason == "the target broke the contract: 1 new blocking finding(s) (1 known from the baseline)"
    )
    folder = write_reports(result, tmp_path)
    data = json.loads((folder / "results.json").read_text())
    schema = json.loads((resources.files("kimi_conformance.report") / "results.schema.json").read_text())
    Draft202012Validator(schema).validate(data)
    assert {f["code"]: f["baseline"] for f in data["findings"]} == {"CHAT001": "new", "CHAT015": "known"}
    assert data["baseline"]["new"] == 1 and [e["code"] for e in data["baseline"]["fixed"]] == ["CHAT004"]
    verdicts = {c["code"]: c["verdict"] for c in data["checks"]}
    assert verdicts["CHAT015"] == "known" and verdicts["CHAT001"] == "failed"
    cases = {c.get("name", "").split()[0]: c for c in ET.parse(folder / "junit.xml").getroot().iter("testcase")}
    assert cases["CHAT015"].find("failure") is None and "Known from the baseline" in (
        cases["CHAT015"].findtext("system-out") or ""
    )
    assert cases["CHAT001"].find("failure") is not None
    markdown = (folder / "report.md").read_text()
    assert "Baseline `b.toml`: **1 new**, 1 known, 1 fixed, 0 not checked" in markdown
    new_section = markdown.split("## New findings")[1].split("## Fixed")[0]
    assert "CHAT001" in new_section and "CHAT015" not in new_section and "CHAT004" in markdown.split("## Fixed")[1]
    assert "### `CHAT015` created is not the Unix time in seconds (error, known)" in markdown
    html = (folder / "report.html").read_text()
    assert "1 new, 1 known, 1 fixed, 0 not checked" in html and "(error, known)" in html
    everything = Baseline("b.toml", tuple(BaselineEntry(fingerprint(f), "") for f in plain.findings))
    assert run_result(everything).exit_code == 0 and run_result(everything).verdict_reason.startswith("no new")


def written_run(tmp_path: Path) -> Path:
    return write_reports(run_result(None), tmp_path / "reports")


def test_baseline_create_and_update_from_the_command_line(tmp_path: Path) -> None:
    runner, folder, file = CliRunner(), written_run(tmp_path), tmp_path / "known.toml"
    created = runner.invoke(cli, ["baseline", "create", str(folder), "-o", str(file)])
    assert created.exit_code == 0, created.output
    assert "2 entries for the 2 blocking finding(s) of run run-1" in created.output
    text = file.read_text()
    assert text.count("[[finding]]") == 2 and text.count('reason = ""') == 2 and "From run run-1" in text
    again = runner.invoke(cli, ["baseline", "create", str(folder), "-o", str(file)])
    assert again.exit_code == 4 and "baseline update" in again.output and file.read_text() == text
    file.write_text(text.replace('reason = ""', 'reason = "accepted: ticket 7"', 1))  # a person reviews one
    update = runner.invoke(cli, ["baseline", "update", str(folder), "--baseline", str(file)])
    assert update.exit_code == 0 and "2 entries; 0 added, 0 dropped as fixed" in update.output, update.output
    assert 'reason = "accepted: ticket 7"' in file.read_text() and "Last updated from run run-1" in file.read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["baseline", "create", "no-such-run"],
        ["baseline", "update", "RUN", "--baseline", "broken.toml"],
        ["baseline", "update", "RUN"],
        ["compare", "RUN", "broken.toml"],
    ],
)
def test_bad_baseline_inputs_are_usage_errors_exiting_4(tmp_path: Path, args: list[str]) -> None:
    folder = written_run(tmp_path)
    (tmp_path / "broken.toml").write_text("version = 1\n[[finding]\n")
    args = [str(folder) if a == "RUN" else str(tmp_path / a) if a.endswith(".toml") else a for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output and result.output.strip().splitlines()[-1].startswith("Error: ")


def test_outcomes_of_a_check_on_another_operation_leave_an_entry_not_checked() -> None:
    served = exchange("listModels", {"object": "list", "data": []}, method="GET")
    outcomes = [*run_checks(CheckContext(), served, {"MODL001"}, "t"), Outcome("CHAT015", CHAT, Status.NOT_APPLICABLE)]
    entry = BaselineEntry(Fingerprint("CHAT015", CHAT, "kimi-k2.6", "Received: created <n>"), "")
    result = RunResult("r", "mock", {}, outcomes, 1.0, 2.0, baseline=Baseline("b.toml", (entry,)))
    split = result.split
    assert split is not None and split.unchecked == (entry,) and not split.fixed and result.exit_code == 0
