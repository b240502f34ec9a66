"""The self-test: every named fault of the mock is caught by the check codes it lists, and nothing is reported for
the clean mock or a benign variation. Shared by `kimi-conformance selftest` and the project's own tests.

Catalogue faults run the suites that exercise them (`kimi-conformance run` in a child process, against the
embedded mock with that fault on). The per-rule faults (`rule-ignored:<rule>`, `rule-strict:<rule>`, two per rule
of the table) run in-process: one mock, the fault switched between cases, the rule's probes sent to a model on
which they isolate the rule.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kimi_conformance.checks import CHECKS, CheckContext
from kimi_conformance.findings import Severity
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, MockServer, serve_in_thread
from kimi_conformance.mock.faults import FAULTS, Fault
from kimi_conformance.rules import ModelInfo, Rule, load_rules
from kimi_conformance.rules.probes import Probe, probes_for_rule
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on
from kimi_conformance.runner.scenarios import send_probe
from kimi_conformance.runner.session import ConformanceSession
from kimi_conformance.transport import TargetClient

MODELS = ("kimi-k2-turbo-preview", "kimi-k2.6")
"""A non-thinking and a thinking model: enough for every catalogue fault to show (today's lineup has no model
that never thinks, so the mock serves every model: `--mock-lineup all`)."""
RUN_OPTIONS = ("--profile", "quick", "--strict", "--request-timeout", "5", "--mock-lineup", "all")
"""`--strict`: a fault whose code is a warning must fail the run too; a short timeout for `hang-*` faults."""
SUITE_FOR_PREFIX = {
    "CHAT": "test_chat.py",
    "ERR": "test_errors.py",
    "AUTH": "test_errors.py",
    "HTTP": "test_errors.py",
    "SCHM": "test_errors.py",
    "FILE": "test_files.py",
    "BTCH": "test_batches.py",
    "MODL": "test_models.py",
    "SSE": "test_streaming.py",
    "CHNK": "test_streaming.py",
    "RULE": "test_rules.py",
}
BENIGN_SUITES = ("test_streaming.py", "test_chat.py", "test_models.py")
CASE_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Case:
    """One run of the self-test: a fault (must be caught), a benign variation or the clean mock (must pass)."""

    name: str
    kind: str
    """`fault`, `benign` or `clean`."""
    suites: tuple[str, ...]
    expected: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What a case found, and whether that is what it had to find."""

    case: Case
    found: frozenset[str]
    failed_run: bool
    elapsed: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        if self.case.kind != "fault":
            return not self.found and not self.failed_run
        must_fail = any(CHECKS[code].severity is not Severity.INFO for code in self.case.expected)
        return self.case.expected <= self.found and (self.failed_run or not must_fail)

    def line(self) -> str:
        verdict = (
            ("caught" if self.ok else "MISSED") if self.case.kind == "fault" else "clean" if self.ok else "FALSE ALARM"
        )
        wanted = ",".join(sorted(self.case.expected)) or "-"
        found = ",".join(sorted(self.found)) or "-"
        return f"{verdict:11} {self.case.name:48} expected {wanted:18} found {found}  ({self.elapsed:.1f} s)"


def suites_for(fault: Fault) -> tuple[str, ...]:
    """The suite modules that show a fault: its own list, else one per check-code family."""
    if fault.suites:
        return fault.suites
    return tuple(sorted({SUITE_FOR_PREFIX[code.rstrip("0123456789")] for code in fault.codes}))


def benign_suites(fault: Fault) -> tuple[str, ...]:
    """The suite modules a benign variation runs: `BENIGN_SUITES`, and the variation's own (`Fault.suites`) beside
    them, for what those do not exercise (error envelopes: test_errors.py)."""
    return tuple(dict.fromkeys((*BENIGN_SUITES, *fault.suites)))


def catalogue_cases() -> list[Case]:
    """The clean mock, every benign variation and every catalogue fault (the per-rule ones are separate)."""
    cases = [Case("clean", "clean", BENIGN_SUITES)]
    for fault in FAULTS.values():
        if fault.rule is not None:
            continue
        if fault.benign:
            cases.append(Case(fault.name, "benign", benign_suites(fault)))
        else:
            cases.append(Case(fault.name, "fault", suites_for(fault), frozenset(fault.codes)))
    return cases


def run_case(case: Case, suites: Path, workdir: Path) -> CaseResult:
    """`kimi-conformance run` with the case's fault against the embedded mock; its findings from results.json."""
    reports = workdir / "reports"
    models = [arg for model in MODELS for arg in ("--model", model)]
    fault = [] if case.kind == "clean" else ["--mock-fault", case.name]
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", str(reports), *RUN_OPTIONS]
    command += [*models, *fault, *(str(suites / name) for name in case.suites)]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=CASE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return CaseResult(case, frozenset(), True, time.monotonic() - started, f"no result in {CASE_TIMEOUT:g} s")
    results_file = reports / "latest" / "results.json"
    results = json.loads(results_file.read_text("utf-8")) if results_file.is_file() else {}
    found = frozenset(finding["code"] for finding in results.get("findings", []))
    detail = (done.stdout + done.stderr)[-3000:]
    return CaseResult(case, found, done.returncode != 0, time.monotonic() - started, detail)


def _isolates(probe: Probe, model: ModelInfo) -> bool:
    """Whether a probe breaks no rule but its own (valid probes: none at all)."""
    broken = [rule.id for rule, _ in broken_rules(ChatView(probe.body, model, thinking_on(probe.body, model)))]
    return broken == ([] if probe.accept else [probe.rule])


def showcase(rule: Rule, accept: bool) -> tuple[ModelInfo, list[Probe]]:
    """The first model of the table with probes of the wanted kind that isolate the rule, and those probes."""
    for model in load_rules().models.values():
        probes = [p for p in probes_for_rule(rule, model) if p.accept is accept and _isolates(p, model)]
        if probes:
            return model, probes
    raise LookupError(f"rule {rule.id} has no {'valid' if accept else 'invalid'} probe on any model")


def probe_findings(server: MockServer, faults: frozenset[str], probes: list[Probe]) -> frozenset[str]:
    """Codes found when `probes` go to `server` switched to `faults` (the mock reads its config per request)."""
    server.switch_faults(faults)
    session = ConformanceSession(CheckContext(), selected=frozenset(CHECKS), strict=True)
    try:
        with TargetClient(server.api_base, DEFAULT_API_KEY, timeout=10) as client:
            return frozenset(code for probe in probes for code in session.check(send_probe(client, probe)).codes)
    finally:
        server.switch_faults(frozenset())


def rule_fault_case(server: MockServer, fault: Fault) -> CaseResult:
    """One per-rule fault, in-process: the rule's probes on a model that isolates it, clean and then faulty."""
    started = time.monotonic()
    rule = load_rules().rule(fault.rule or "")
    assert rule is not None
    model, probes = showcase(rule, accept=fault.name.startswith("rule-strict:"))
    case = Case(fault.name, "fault", ("probes on " + model.id,), frozenset(fault.codes))
    clean = probe_findings(server, frozenset(), probes)
    if clean:
        return CaseResult(case, clean, True, time.monotonic() - started, f"the clean mock already fails: {clean}")
    found = probe_findings(server, frozenset({fault.name}), probes)
    return CaseResult(case, found, bool(found), time.monotonic() - started)


def rule_faults() -> list[Fault]:
    return [fault for fault in FAULTS.values() if fault.rule is not None]


def run_rule_faults(faults: list[Fault] | None = None) -> Iterator[CaseResult]:
    """Every per-rule fault (or those given) against one embedded mock."""
    with serve_in_thread(MockConfig(lineup="all")) as server:
        for fault in faults if faults is not None else rule_faults():
            yield rule_fault_case(server, fault)


def score(results: list[CaseResult]) -> str:
    """`faults caught 190/190, false alarms 0/7 (clean mock + benign variations)`."""
    faults = [r for r in results if r.case.kind == "fault"]
    others = [r for r in results if r.case.kind != "fault"]
    caught = sum(r.ok for r in faults)
    alarms = sum(not r.ok for r in others)
    return f"faults caught {caught}/{len(faults)}, false alarms {alarms}/{len(others)} (clean mock + benign variations)"


def run_catalogue(cases: list[Case], suites: Path, jobs: int, report: Callable[[CaseResult], None]) -> list[CaseResult]:
    """Run catalogue cases `jobs` at a time, each in its own working folder; `report` sees each result."""
    from concurrent.futures import ThreadPoolExecutor

    results: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="kimi-selftest-") as root, ThreadPoolExecutor(max(1, jobs)) as pool:
        folders = [Path(root) / str(index) for index in range(len(cases))]
        for folder in folders:
            folder.mkdir()
        for result in pool.map(lambda pair: run_case(pair[0], suites, pair[1]), zip(cases, folders, strict=True)):
            report(result)
            results.append(result)
    return results
