"""The results of one run, as data: outcomes grouped per check, a verdict, and the JSON document (schema v1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance import __version__
from kimi_conformance.checks import CHECKS, Outcome, Status
from kimi_conformance.fidelity import below_gate, percent
from kimi_conformance.findings import Finding, Severity, blocks
from kimi_conformance.ledger import account_line
from kimi_conformance.operations import Surface
from kimi_conformance.report.baseline import Baseline, BaselineSplit
from kimi_conformance.report.fingerprint import fingerprint
from kimi_conformance.report.matrix import Matrix, build_matrix

RESULTS_SCHEMA_VERSION = 1
EXIT_CODES = {
    0: "pass",
    1: "new blocking findings (or a test that failed without one)",
    2: "incomplete: a budget or quota stop, the target gone, an interrupt",
    3: "the tool itself failed (a check crashed)",
    4: "usage error (options, config file, baseline)",
}
"""What a run's exit code says (`RunResult.exit_code`; 4 is pytest's and the command line's), as README documents."""


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """Every outcome of one check in a run."""

    code: str
    passed: int
    failed: int
    not_applicable: int
    findings: tuple[Finding, ...]
    crashed: int = 0
    strict: bool = False
    baseline: Baseline | None = None
    """The run's `--baseline`: a blocking finding it knows does not fail the check."""
    operations: tuple[str, ...] = ()
    """The operations the check judged (passed or failed on)."""

    def known(self, finding: Finding) -> bool:
        return self.baseline is not None and fingerprint(finding) in self.baseline

    @property
    def blocking(self) -> bool:
        """Some finding blocks (`findings.blocks`) and is not known from the baseline."""
        return any(blocks(f.severity, self.strict) and not self.known(f) for f in self.findings)

    @property
    def verdict(self) -> str:
        """`crashed` (the check itself erred), `failed` (a blocking finding), `known` (blocking findings, every one
        in the baseline), `warned` (findings that do not block), `passed` (run and held), or `not-run`."""
        if self.crashed:
            return "crashed"
        if self.blocking:
            return "failed"
        if any(blocks(f.severity, self.strict) for f in self.findings):
            return "known"
        if self.findings:
            return "warned"
        return "passed" if self.passed else "not-run"


@dataclass(slots=True)
class RunResult:
    """A whole run: settings, target, outcomes; everything reports need."""

    run_id: str
    target: str
    settings: dict[str, Any]
    outcomes: list[Outcome]
    started_at: float
    finished_at: float
    strict: bool = False
    tests: dict[str, int] = field(default_factory=dict)
    """pytest's own counts (passed, failed, skipped, error)."""
    spending: dict[str, Any] = field(default_factory=dict)
    """Requests, tokens and estimated cost (`budget.Spending.as_json()`)."""
    budget_reached: str | None = None
    """Why the budget (or the target's quota) stopped the run before it finished."""
    not_run: list[str] = field(default_factory=list)
    """Tests that were never run because the run stopped early."""
    account: dict[str, Any] | None = None
    """What the run created on the target's account and removed (`ledger.AccountLedger.summary()`)."""
    recorded: dict[str, int] | None = None
    """`exchanges` in the cassette (every request sent, once) and how many of them were never judged (`unjudged`)."""
    models: dict[str, list[str]] | None = None
    """`exercised`: the models the run exercised; `not_offered`: today's models the target does not list (info)."""
    operations: dict[str, Any] | None = None
    """`exercised`: the operation groups the run exercised; `not_offered`: the others, with each one's reason
    (`operations.Surface.as_json()`: left out by --operations, or answered 404/405 by the operations probe)."""
    fidelity: dict[str, Any] | None = None
    """Tool-call fidelity per model (`fidelity.FidelityTally.as_json()`), when the fidelity suite ran."""
    min_schema_accuracy: float | None = None
    """`--min-schema-accuracy` (a percentage): below it for any model, the run fails; None: report only."""
    recheck: dict[str, Any] | None = None
    """For `kimi-conformance recheck` (`runner/recheck.py`): the cassette judged again, what was and was not judged,
    and how the findings compare with the recorded run's."""
    baseline: Baseline | None = None
    """`--baseline`: its known findings do not fail the run (`split`)."""
    target_unusable: str | None = None
    """Why the target could not be used at all (its probe got no usable answer): the run is incomplete."""
    _distinct: tuple[int, list[Finding], list[Outcome]] | None = field(default=None, init=False, repr=False)
    _split: tuple[int, BaselineSplit] | None = field(default=None, init=False, repr=False)

    def _distinct_outcomes(self) -> tuple[list[Finding], list[Outcome]]:
        """Distinct findings and crashes, gathered in one pass over the outcomes (again when outcomes were added)."""
        if self._distinct is None or self._distinct[0] != len(self.outcomes):
            findings: dict[tuple[str, str, str, str], Finding] = {}
            crashes: dict[tuple[str, str, str | None], Outcome] = {}
            for outcome in self.outcomes:
                if outcome.finding is not None:
                    f = outcome.finding
                    findings.setdefault((f.code, f.operation, f.message, f.request), f)
                elif outcome.status is Status.CRASHED:
                    crashes.setdefault((outcome.code, outcome.operation, outcome.crash), outcome)
            self._distinct = (len(self.outcomes), list(findings.values()), list(crashes.values()))
        return self._distinct[1], self._distinct[2]

    @property
    def verdict(self) -> str:
        """`error` when a check crashed (the tool itself erred); else `incomplete` when the target could not be used
        at all; else `fail` on new blocking findings (all blocking ones without a baseline); else `incomplete` when
        the run stopped early (budget, quota, the target stopped answering, an interrupt); else `error` when a test
        failed without a finding (the suite could not judge something); else `pass`."""
        if self.crashes:
            return "error"
        if self.target_unusable:
            return "incomplete"
        if self.failing or self.below_gate:
            return "fail"
        if self.budget_reached:
            return "incomplete"
        return "error" if self.tests.get("failed", 0) or self.tests.get("error", 0) else "pass"

    @property
    def exit_code(self) -> int:
        """0 pass; 1 fail (new blocking findings, or a test that failed without one); 2 incomplete; 3 the tool
        itself erred (a check crashed). (4, a usage error, is pytest's and the command line's.)"""
        if self.crashes:
            return 3
        return {"pass": 0, "incomplete": 2}.get(self.verdict, 1)

    @property
    def split(self) -> BaselineSplit | None:
        """The findings against `--baseline`: new, known, fixed, not checked (None without a baseline)."""
        if self.baseline is None:
            return None
        if self._split is None or self._split[0] != len(self.outcomes):
            self._split = (len(self.outcomes), self.baseline.split(self.findings, self.strict, self.checked()))
        return self._split[1]

    def checked(self) -> frozenset[tuple[str, str]]:
        """The (code, operation) pairs some check outcome passed or failed on."""
        judged = (Status.PASSED, Status.FAILED)
        return frozenset((o.code, o.operation) for o in self.outcomes if o.status in judged)

    @property
    def verdict_reason(self) -> str:
        """One line saying why the verdict is what it is."""
        if self.crashes:
            codes = sorted({o.code for o in self.crashes})
            return f"the tool itself erred: {len(self.crashes)} check crash(es) in {', '.join(codes)}"
        if self.target_unusable:
            return f"the target could not be used: {self.target_unusable}"
        split = self.split
        known = f" ({len(split.known)} known from the baseline)" if split is not None and split.known else ""
        if self.failing:
            if split is not None:
                return f"the target broke the contract: {len(split.new)} new blocking finding(s){known}"
            return "the target broke the contract: blocking findings"
        if self.below_gate:
            return f"tool-call fidelity below --min-schema-accuracy {self.min_schema_accuracy:g}: " + "; ".join(
                self.below_gate
            )
        if self.budget_reached:
            return f"the run stopped early: {self.budget_reached}"
        if self.tests.get("failed", 0) or self.tests.get("error", 0):
            return "a test failed without a finding: the suite could not judge something"
        return ("no new blocking finding" + known) if split is not None else "no blocking finding"

    @property
    def below_gate(self) -> list[str]:
        """The models whose schema_accuracy is below `--min-schema-accuracy`, one line each (none without a gate,
        or when the fidelity suite did not run)."""
        if self.min_schema_accuracy is None or not self.fidelity:
            return []
        return below_gate(self.fidelity, self.min_schema_accuracy)

    def fidelity_lines(self) -> list[str]:
        """One line per model: K2VV's schema_accuracy, streamed and not, and the answers of each class; then the
        gate's verdict (empty when the fidelity suite did not run)."""
        if not self.fidelity:
            return []
        lines = []
        for model, entry in self.fidelity["models"].items():
            modes = ", ".join(
                f"{mode} {percent(counts['schema_accuracy'])}"
                for mode, counts in entry["modes"].items()
                if counts["answers"]
            )
            classes = " · ".join(f"{name} {count}" for name, count in entry["classes"].items() if count)
            lines.append(
                f"{model}: schema_accuracy {percent(entry['schema_accuracy'])} ({entry['valid_tool_calls']}/"
                f"{entry['finish_tool_calls']} answers ending in tool_calls valid; {modes}) · {classes}"
            )
        if self.min_schema_accuracy is not None:
            below = self.below_gate
            verdict = f"FAILED: {'; '.join(below)}" if below else "passed"
            lines.append(f"gate --min-schema-accuracy {self.min_schema_accuracy:g}: {verdict}")
        return lines

    @property
    def crashes(self) -> list[Outcome]:
        """Crashed check outcomes, each distinct (code, operation, crash) once."""
        return self._distinct_outcomes()[1]

    @property
    def findings(self) -> list[Finding]:
        """Findings, each distinct (code, operation, message, request) once."""
        return self._distinct_outcomes()[0]

    def pass_at_k(self) -> dict[str, dict[str, int]]:
        """Per model-behaviour check: cases judged, passed at the first attempt, passed within k attempts."""
        cases: dict[tuple[str, str], list[list[bool]]] = {}
        for outcome in self.outcomes:
            check = CHECKS.get(outcome.code)
            if check is None or not check.behavioural or outcome.status is Status.NOT_APPLICABLE:
                continue
            runs = cases.setdefault((outcome.code, outcome.test), [])
            if outcome.attempt == 1 or not runs:
                runs.append([])
            runs[-1].append(outcome.status is Status.PASSED)
        summary: dict[str, dict[str, int]] = {}
        for (code, _), runs in cases.items():
            entry = summary.setdefault(code, {"k": 1, "cases": 0, "pass_at_1": 0, "pass_at_k": 0})
            for attempts in runs:
                entry["k"] = max(entry["k"], len(attempts))
                entry["cases"] += 1
                entry["pass_at_1"] += attempts[0]
                entry["pass_at_k"] += any(attempts)
        return dict(sorted(summary.items()))

    def spending_line(self) -> str:
        """Requests, retries, tokens (prompt, cached, completion), estimated cost, and why the run stopped early."""
        spent = self.spending
        if not spent:
            return ""
        line = (
            f"{spent.get('requests', 0)} requests ({spent.get('retries', 0)} retried after 429) · "
            f"{spent.get('tokens', 0):,} tokens ({spent.get('prompt_tokens', 0):,} prompt of which "
            f"{spent.get('cached_tokens', 0):,} cached, {spent.get('completion_tokens', 0):,} completion) · "
            f"estimated cost ${spent.get('estimated_cost_usd', 0.0):.4f}"
        )
        unpriced = spent.get("unpriced_models") or []
        if unpriced:
            line += f" (not priced: {', '.join(unpriced)})"
        if spent.get("cleanup_requests"):
            line += f" · {spent['cleanup_requests']} clean-up request(s) outside the budget"
        if self.recorded:
            line += f" · {self.recorded['exchanges']} exchanges in the cassette"
            if self.recorded["unjudged"]:
                line += f" ({self.recorded['unjudged']} sent, not judged: polls, retried 429s, auth probes)"
            if self.recorded.get("unsent"):
                line += f" · {self.recorded['unsent']} streams not sent: failed fast after streams that stalled"
        if self.budget_reached:
            line += f" · stopped early: {self.budget_reached}; {len(self.not_run)} test(s) not run"
        return line

    def models_line(self) -> str:
        """`models: 6 exercised (...); not offered by the target: ...` (empty when the run knows no models)."""
        if not self.models:
            return ""
        exercised, missing = self.models.get("exercised") or [], self.models.get("not_offered") or []
        line = f"{len(exercised)} exercised ({', '.join(exercised) or 'none'})"
        return line + (f"; not offered by the target (information): {', '.join(missing)}" if missing else "")

    def operations_line(self) -> str:
        """`2 exercised (models, chat); not offered: files (GET /files answered 404), ...` (empty without a probe)."""
        return Surface.from_json(self.operations).line() if self.operations else ""

    def account_line(self) -> str:
        """What the run created on the account and removed, and what is left (empty when it used no client)."""
        return account_line(self.account) if self.account else ""

    def matrix(self) -> Matrix:
        """Checks x models, each cell pass, warn, fail, n/a or not offered (`report/matrix.py`)."""
        models = (self.models or {}).get("exercised") or []
        missing = (self.operations or {}).get("not_offered") or []
        return build_matrix(self.outcomes, models, missing, self.strict)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failing(self) -> bool:
        """Some finding blocks (`findings.blocks`: errors; warnings too under --strict; info never) and, with a
        baseline, is new."""
        split = self.split
        if split is not None:
            return bool(split.new)
        return any(blocks(f.severity, self.strict) for f in self.findings)

    def per_check(self) -> list[CheckSummary]:
        statuses: dict[str, Counter[str]] = {code: Counter() for code in CHECKS}
        operations: dict[str, set[str]] = {}
        for outcome in self.outcomes:
            statuses.setdefault(outcome.code, Counter())[outcome.status] += 1
            if outcome.status in (Status.PASSED, Status.FAILED):
                operations.setdefault(outcome.code, set()).add(outcome.operation)
        findings = self.findings
        return [
            CheckSummary(
                code=code,
                passed=counts[Status.PASSED],
                failed=counts[Status.FAILED],
                not_applicable=counts[Status.NOT_APPLICABLE],
                findings=tuple(f for f in findings if f.code == code),
                crashed=counts[Status.CRASHED],
                strict=self.strict,
                baseline=self.baseline,
                operations=tuple(sorted(operations.get(code, ()))),
            )
            for code, counts in sorted(statuses.items())
        ]

    def _finding_json(self, finding: Finding) -> dict[str, Any]:
        """A finding with its fingerprint's id and, with a baseline, `baseline`: known, new (blocking, not in it)
        or null (neither: a finding that does not block)."""
        fp = fingerprint(finding)
        data = {**finding.as_json(), "fingerprint": fp.id}
        if self.baseline is not None:
            new = blocks(finding.severity, self.strict)
            data["baseline"] = "known" if fp in self.baseline else "new" if new else None
        return data

    def as_json(self) -> dict[str, Any]:
        statuses = Counter(o.status for o in self.outcomes)
        return {
            "schema_version": RESULTS_SCHEMA_VERSION,
            "tool": {"name": "kimi-conformance", "version": __version__},
            "run_id": self.run_id,
            "target": self.target,
            "settings": self.settings,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": round(self.finished_at - self.started_at, 3),
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "summary": {
                "outcomes": len(self.outcomes),
                "passed": statuses[Status.PASSED],
                "failed": statuses[Status.FAILED],
                "not_applicable": statuses[Status.NOT_APPLICABLE],
                "crashed": statuses[Status.CRASHED],
                "findings": {s.value: self.count(s) for s in Severity},
                "tests": self.tests,
            },
            "checks": [
                {
                    "code": s.code,
                    "name": CHECKS[s.code].name if s.code in CHECKS else s.code,
                    "title": CHECKS[s.code].title if s.code in CHECKS else "",
                    "severity": CHECKS[s.code].severity.value if s.code in CHECKS else "error",
                    "spec": CHECKS[s.code].spec if s.code in CHECKS else "",
                    "verdict": s.verdict,
                    "passed": s.passed,
                    "failed": s.failed,
                    "not_applicable": s.not_applicable,
                    "crashed": s.crashed,
                    "operations": list(s.operations),
                }
                for s in self.per_check()
            ],
            "findings": [self._finding_json(f) for f in self.findings],
            "baseline": None if self.baseline is None or self.split is None else self.split.as_json(self.baseline),
            "target_unusable": self.target_unusable,
            "crashes": [
                {"code": o.code, "operation": o.operation, "test": o.test, "crash": o.crash} for o in self.crashes
            ],
            "spending": self.spending,
            "pass_at_k": self.pass_at_k(),
            "budget_reached": self.budget_reached,
            "not_run": self.not_run,
            "account": self.account,
            "models": self.models,
            "operations": self.operations,
            "recorded": self.recorded,
            "matrix": self.matrix().as_json(),
            "fidelity": None
            if not self.fidelity
            else {
                **self.fidelity,
                "gate": None
                if self.min_schema_accuracy is None
                else {
                    "min_schema_accuracy": self.min_schema_accuracy,
                    "passed": not self.below_gate,
                    "below": self.below_gate,
                },
            },
            **({"recheck": self.recheck} if self.recheck is not None else {}),
        }
