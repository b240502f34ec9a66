"""A conformance session: the selected checks, the outcomes recorded so far, and how findings fail a test."""

from __future__ import annotations

from dataclasses import dataclass, field

from kimi_conformance.checks import CheckContext, Outcome, run_checks
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Finding, Severity


@dataclass(slots=True)
class ConformanceSession:
    """Runs checks on exchanges and keeps every outcome for the reports."""

    context: CheckContext
    selected: frozenset[str]
    strict: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    def check(self, exchange: Exchange, test: str = "", only: set[str] | None = None) -> list[Finding]:
        """Run the selected checks (or `only` those among them) and return the findings that fail the test."""
        codes = self.selected & only if only is not None else self.selected
        outcomes = run_checks(self.context, exchange, codes, test)
        self.outcomes.extend(outcomes)
        return [o.finding for o in outcomes if o.finding is not None and self.blocks(o.finding)]

    def record(self, outcomes: list[Outcome]) -> None:
        self.outcomes.extend(outcomes)

    def blocks(self, finding: Finding) -> bool:
        """Errors fail a test; warnings only under --strict; info never."""
        return finding.severity is Severity.ERROR or (self.strict and finding.severity is Severity.WARNING)
