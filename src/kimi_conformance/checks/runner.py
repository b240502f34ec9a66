"""Running the selected checks on an exchange: every outcome (passed, failed, not applicable, crashed) is kept.

This is the check boundary: a check that raises anything other than its `Violation` or `NotApplicable` has
crashed. Its crash is an outcome of its own (the exception's type and message, never a traceback), and the other
checks of the exchange still run: one faulty check never hides what the rest found.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.registry import CHECKS, Check
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Evidence, Finding, Severity, Violation, printable

CRASH_TEXT_CHARS = 300


class Status(enum.StrEnum):
    """What became of one check on one exchange."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not-applicable"
    CRASHED = "crashed"
    """The check itself raised an unexpected exception: the tool erred, not (necessarily) the target."""


class NotApplicable(Exception):
    """Raised by a check that has nothing to say about this exchange."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One check on one exchange."""

    code: str
    operation: str
    status: Status
    finding: Finding | None = None
    test: str = ""
    attempt: int = 1
    """Which attempt at the same request this is (`--attempts K` resends requests whose model-behaviour checks
    failed); a new case starts at 1."""
    crash: str | None = None
    """For a crashed check: `ExceptionType: message` (one line, no traceback)."""

    def crash_line(self) -> str:
        """The one-line reason a crashed check gives, naming the check."""
        check = CHECKS.get(self.code)
        name = f" ({check.name})" if check else ""
        return f"tool error: check {self.code}{name} crashed on {self.operation}: {self.crash}"

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "operation": self.operation,
            "status": self.status,
            "test": self.test,
            "attempt": self.attempt,
            "finding": self.finding.as_json() if self.finding else None,
            **({"crash": self.crash} if self.crash is not None else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        finding = Finding.from_json(data["finding"]) if data.get("finding") else None
        return cls(
            data["code"],
            data["operation"],
            Status(data["status"]),
            finding,
            data.get("test", ""),
            data.get("attempt", 1),
            data.get("crash"),
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
            outcomes.append(Outcome(code, exchange.operation, Status.NOT_APPLICABLE, test=test))
        except Violation as violation:
            finding = finding_for(check, exchange, violation, test)
            outcomes.append(Outcome(code, exchange.operation, Status.FAILED, finding, test=test))
        except Exception as exc:  # the check boundary: a crash is the tool's error, kept as an outcome
            crash = printable(f"{type(exc).__name__}: {exc}".replace("\n", " "))[:CRASH_TEXT_CHARS]
            outcomes.append(Outcome(code, exchange.operation, Status.CRASHED, test=test, crash=crash))
        else:
            outcomes.append(Outcome(code, exchange.operation, Status.PASSED, test=test))
    return outcomes
