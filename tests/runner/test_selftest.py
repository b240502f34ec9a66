"""The self-test, as our CI runs it: every named fault of the mock is caught by the codes it lists (catalogue
faults through `kimi-conformance run` on the suites that show them; per-rule faults in-process), and the clean
mock and every benign variation give no finding. tests/conftest.py prints the score at the end of the run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kimi_conformance.checks import CHECKS
from kimi_conformance.cli.run import suites_path
from kimi_conformance.mock import MockConfig, MockServer, serve_in_thread
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.rules import load_rules
from kimi_conformance.runner.selftest import BENIGN_SUITES, Case, catalogue_cases, rule_fault_case, run_case

CASES = catalogue_cases()


def test_the_catalogue_is_large_and_covers_every_check() -> None:
    catalogue = [f for f in FAULTS.values() if f.rule is None and not f.benign]
    assert len(catalogue) >= 40
    assert {code for fault in FAULTS.values() for code in fault.codes} == set(CHECKS)
    assert all(bool(fault.codes) != fault.benign for fault in FAULTS.values())
    assert len([f for f in FAULTS.values() if f.benign]) >= 6


BENIGN_FALSE_ALARMS = {
    "benign-loose-tool-arguments": "test_chat.py",  # CHAT009 on a `strict: false` tool (facts §3.6)
    "benign-retry-field": "test_streaming.py",  # SSE002 on a `retry:`-only block (WHATWG SSE)
    "benign-error-nulls": "test_errors.py",  # SCHM001 on `"code": null, "param": null` (facts §9)
    "benign-null-role-deltas": "test_streaming.py",  # CHNK002 on a later `"role": null`
}
"""Benign variations each made for a false alarm once raised, and the suite that sends what would raise it."""


@pytest.mark.parametrize("name", sorted(BENIGN_FALSE_ALARMS))
def test_a_benign_variation_runs_the_suite_that_exercises_it(name: str) -> None:
    """Its `test_catalogue` case (no finding, the run passing) must send what once raised the false alarm: the
    benign suites, and the variation's own beside them (error envelopes are only in test_errors.py)."""
    (case,) = [c for c in CASES if c.name == name]
    assert case.kind == "benign" and not case.expected
    assert {*BENIGN_SUITES, BENIGN_FALSE_ALARMS[name]} <= set(case.suites)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_catalogue(case: Case, tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    result = run_case(case, suites_path(), tmp_path)
    record_property("selftest", f"{case.kind}:{'ok' if result.ok else 'bad'}")
    assert result.ok, f"{result.line()}\n{result.detail}"


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with serve_in_thread(MockConfig(lineup="all")) as server:
        yield server


RULE_FAULTS = sorted(name for name, fault in FAULTS.items() if fault.rule is not None)


def test_two_faults_per_rule_with_two_exceptions() -> None:
    rules = load_rules().rules
    assert {FAULTS[name].rule for name in RULE_FAULTS if name.startswith("rule-ignored:")} == set(rules)
    without_strict = set(rules) - {FAULTS[n].rule for n in RULE_FAULTS if n.startswith("rule-strict:")}
    assert without_strict == {"content.video-url-form", "content.file-reference"}  # no valid probe can be sent


@pytest.mark.parametrize("fault", RULE_FAULTS)
def test_rule_fault(mock: MockServer, fault: str, record_property: Callable[[str, object], None]) -> None:
    result = rule_fault_case(mock, FAULTS[fault])
    record_property("selftest", f"fault:{'ok' if result.ok else 'bad'}")
    assert result.ok and "HTTP002" not in result.found, f"{result.line()} {result.detail}"
