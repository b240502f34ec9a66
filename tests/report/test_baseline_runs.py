"""Baselines on real runs of the embedded mock (`kimi-conformance run` in a child process, the quick profile, one
model, `test_chat.py`: about 3 s each): a run against a faulty mock with the baseline of that run exits 0; with one
more fault switched on it exits 1 naming only the new finding; with the fault removed it exits 0 and lists the
fixed entries. The fingerprints of two runs of the same faulty mock are the same set, though their messages are not
(timestamps, ids), and `compare` matches findings the same way."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.report.fingerprint import Fingerprint, fingerprint
from kimi_conformance.report.recorded import RecordedRun
from tests.kimi_cli import FAULT_A, FAULT_B, QUICK, Ran, kimi, run


def fingerprints(ran: Ran) -> set[Fingerprint]:
    assert ran.folder is not None, ran.output[-3000:]
    return {fingerprint(f) for f in RecordedRun.load(ran.folder).findings}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("baseline-runs")


@pytest.fixture(scope="module")
def run_a(workspace: Path) -> Ran:
    """The run the baseline is made from: the mock with fault A."""
    ran = run(workspace, *QUICK, "--mock-fault", FAULT_A, "test_chat.py")
    assert ran.code == 1, ran.output[-3000:]
    return ran


@pytest.fixture(scope="module")
def baseline(workspace: Path, run_a: Ran) -> Path:
    assert run_a.folder is not None
    created = kimi(workspace, "baseline", "create", str(run_a.folder), "-o", "known.toml")
    assert created.code == 0, created.output
    return workspace / "known.toml"


def test_a_run_with_the_baseline_of_its_own_faults_passes(workspace: Path, run_a: Ran, baseline: Path) -> None:
    # with two xdist workers: each marks its tests that failed on known findings only, the controller merges
    ran = run(workspace, *QUICK, "-n", "2", "--mock-fault", FAULT_A, "--baseline", "known.toml", "test_chat.py")
    assert ran.code == 0, ran.output[-3000:]
    results = ran.results
    known = results["baseline"]["known"]  # distinct messages: two workers may meet the same millisecond
    assert results["verdict"] == "pass" and results["baseline"]["new"] == 0 and known == len(results["findings"])
    assert "15 xfailed" in ran.output and f"baseline known.toml: 0 new, {known} known, 0 fixed" in ran.output
    # the same faulty mock twice: one fingerprint set, though every message's timestamp differs
    assert fingerprints(ran) == fingerprints(run_a) and len(fingerprints(ran)) == 1
    messages = {f["message"] for f in results["findings"]}
    assert messages.isdisjoint({f["message"] for f in run_a.results["findings"]})


def test_one_more_fault_fails_naming_only_its_finding(workspace: Path, baseline: Path) -> None:
    faults = ("--mock-fault", FAULT_A, "--mock-fault", FAULT_B)
    ran = run(workspace, *QUICK, *faults, "--baseline", "known.toml", "test_chat.py")
    assert ran.code == 1, ran.output[-3000:]
    results = ran.results
    assert [e["code"] for e in results["baseline"]["new_fingerprints"]] == ["CHAT001"]
    assert results["baseline"]["known"] == 15 and not results["baseline"]["fixed"]
    assert {f["code"] for f in results["findings"] if f["baseline"] == "new"} == {"CHAT001"}
    new_lines = [line for line in ran.output.splitlines() if line.startswith("  new ")]
    assert len(new_lines) == 1 and "CHAT001 createChatCompletion kimi-k2.6" in new_lines[0], ran.output[-3000:]
    assert "1 new blocking finding(s) (15 known from the baseline)" in results["verdict_reason"]
    assert ran.folder is not None
    cases = {c.get("name", "").split()[0]: c for c in ET.parse(ran.folder / "junit.xml").getroot().iter("testcase")}
    assert cases["CHAT001"].find("failure") is not None and cases["CHAT015"].find("failure") is None


def test_the_fault_removed_passes_and_lists_the_fixed_entries(workspace: Path, baseline: Path) -> None:
    ran = run(workspace, *QUICK, "--baseline", "known.toml", "test_chat.py")
    assert ran.code == 0, ran.output[-3000:]
    fixed = ran.results["baseline"]["fixed"]
    assert [(e["code"], e["model"]) for e in fixed] == [("CHAT015", "kimi-k2.6")]
    assert "fixed CHAT015-" in ran.output and "0 new, 0 known, 1 fixed" in ran.output
    assert ran.folder is not None and "## Fixed (baseline entries no finding matched)" in (
        ran.folder / "report.md"
    ).read_text("utf-8")
    update = kimi(workspace, "baseline", "update", str(ran.folder), "--baseline", "known.toml", "-o", "after.toml")
    assert update.code == 0 and "0 entries; 0 added, 1 dropped as fixed" in update.output, update.output
    assert "[[finding]]" not in (workspace / "after.toml").read_text("utf-8")


def test_update_keeps_a_reason_and_adds_the_new_finding(workspace: Path, run_a: Ran, baseline: Path) -> None:
    reviewed = workspace / "reviewed.toml"
    reviewed.write_text(baseline.read_text("utf-8").replace('reason = ""', 'reason = "ms clock: ticket 7"'), "utf-8")
    both = run(workspace, *QUICK, "--mock-fault", FAULT_A, "--mock-fault", FAULT_B, "test_chat.py")
    assert both.folder is not None, both.output[-3000:]
    update = kimi(workspace, "baseline", "update", str(both.folder), "--baseline", str(reviewed))
    assert update.code == 0 and "2 entries; 1 added, 0 dropped" in update.output, update.output
    text = reviewed.read_text("utf-8")
    assert 'reason = "ms clock: ticket 7"' in text and text.count('reason = ""') == 1 and 'code = "CHAT001"' in text
    again = run(workspace, *QUICK, "--mock-fault", FAULT_A, "--mock-fault", FAULT_B, "--baseline", str(reviewed),
                "test_chat.py")  # fmt: skip
    assert again.code == 0, again.output[-3000:]


def test_compare_exits_1_on_findings_the_first_run_does_not_have(workspace: Path, run_a: Ran) -> None:
    both = run(workspace, *QUICK, "--mock-fault", FAULT_A, "--mock-fault", FAULT_B, "test_chat.py")
    assert run_a.folder is not None and both.folder is not None
    worse = kimi(workspace, "compare", str(run_a.folder), str(both.folder), "--label", "A", "--label", "A+B")
    assert worse.code == 1, worse.output
    against = worse.output.split("## Against A")[1]
    assert "1 new, 0 fixed" in against and "new: `CHAT001-" in against and "CHAT015" not in against
    assert "new findings against the first run: A+B: 1" in worse.output
    better = kimi(workspace, "compare", str(both.folder), str(run_a.folder))
    assert better.code == 0 and "0 new, 1 fixed" in better.output, better.output
    assert kimi(workspace, "compare", str(run_a.folder), str(both.folder), "--fail-on", "none").code == 0


def test_fingerprints_survive_ids_ports_and_clocks(tmp_path: Path) -> None:
    """Two runs of one faulty mock, each on its own port, with file ids and timestamps in the messages."""
    faults = ("--mock-fault", "file-list-lags", "--mock-fault", FAULT_A)
    first, second = (run(tmp_path, *QUICK, *faults, "test_files.py", "test_chat.py") for _ in range(2))
    messages: list[set[Any]] = [{f["message"] for f in ran.results["findings"]} for ran in (first, second)]
    assert messages[0].isdisjoint(messages[1])  # no message is the same twice ...
    assert fingerprints(first) == fingerprints(second)  # ... and every fingerprint is
    assert {fp.code for fp in fingerprints(first)} == {"CHAT015", "FILE001"}
    assert {f["fingerprint"] for f in first.results["findings"]} == {fp.id for fp in fingerprints(second)}
