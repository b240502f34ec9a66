"""Running the selected checks on an exchange: every outcome (passed, failed, not applicable) is kept."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.registry import CHECKS, Check
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Evidence, Finding, Severity, Violation, printable

PASSED, FAILED, NOT_APPLICABLE = "passed", "failed", "not-applicable"


class NotApplicable(Exception):
    """Raised by a check that has nothing to say about this exchange."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One check on one exchange."""

    code: str
    operation: str
    status: str
    finding: Finding | None = None
    test: str = ""
    attempt: int = 1
    """Which attempt at the same request this is (`--attempts K` resends requests whose model-behaviour checks
    failed); a new case starts at 1."""

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "operation": self.operation,
            "status": self.status,
            "test": self.test,
            "attempt": self.attempt,
            "finding": self.finding.as_json() if self.finding else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        finding = Finding.from_json(data["finding"]) if data.get("finding") else None
        return cls(
            data["code"], data["operation"], data["status"], finding, data.get("test", ""), data.get("attempt", 1)
        )

    def retried(self, attempt: int, attempts: int) -> Outcome:
        """This outcome as a failed attempt that was retried: its finding becomes info, saying so."""
        finding = self.finding
        if finding is not None:
            note = f"attempt {attempt} of at most {attempts} (the request was sent again; --attempts)\n"
            finding = dataclasses.replace(finding, severity=Severity.INFO, message=note + finding.message)
        return dataclasses.replace(self, finding=finding, attempt=attempt)


def finding_for(check: Check, exchange: Exchange, violation: Violation, test: str = "") -> Finding:
    """Turn a check's violation on an exchange into the finding reports show."""
    evidence = Evidence(
        status=exchange.status,
        headers={k: v for k, v in exchange.response_headers.items() if k in ("content-type", "retry-after")},
        excerpt=printable(exchange.transport_error or exchange.excerpt()),
    )
    return Finding(
        code=check.code,
        name=check.name,
        title=check.title,
        severity=violation.severity or check.severity,
        spec=check.spec,
        operation=exchange.operation,
        message=printable(violation.message),
        request=printable(exchange.summary()),
        evidence=evidence,
        replay=printable(exchange.curl()),
        test=test,
    )


def run_checks(
    ctx: CheckContext, exchange: Exchange, codes: frozenset[str] | set[str], test: str = ""
) -> list[Outcome]:
    """Run each selected check that applies to the exchange's operation."""
    outcomes = []
    for code in sorted(codes):
        check = CHECKS[code]
        if not check.applies_to(exchange.operation):
            continue
        try:
            check.function(ctx, exchange)
        except NotApplicable:
            outcomes.append(Outcome(code, exchange.operation, NOT_APPLICABLE, test=test))
        except Violation as violation:
            finding = finding_for(check, exchange, violation, test)
            outcomes.append(Outcome(code, exchange.operation, FAILED, finding, test=test))
        else:
            outcomes.append(Outcome(code, exchange.operation, PASSED, test=test))
    return outcomes
