"""Running the selected checks on an exchange: every outcome (passed, failed, not applicable) is kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.registry import CHECKS, Check
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Evidence, Finding, Violation, printable

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

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "operation": self.operation,
            "status": self.status,
            "test": self.test,
            "finding": self.finding.as_json() if self.finding else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        finding = Finding.from_json(data["finding"]) if data.get("finding") else None
        return cls(data["code"], data["operation"], data["status"], finding, data.get("test", ""))


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
