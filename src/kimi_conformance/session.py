"""A conformance session: the selected checks, the outcomes recorded so far, and how findings fail a test."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance.checks import CHECKS, CheckContext, Outcome, run_checks
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Finding, Severity


@dataclass(slots=True)
class ConformanceSession:
    """Runs checks on exchanges and keeps every outcome for the reports."""

    context: CheckContext
    selected: frozenset[str]
    strict: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    cassette: list[dict[str, Any]] = field(default_factory=list)
    """Every exchange checked, as cassette records (redacted), for `drift traffic`."""

    def check(self, exchange: Exchange, test: str = "", only: set[str] | None = None) -> list[Finding]:
        """Run the selected checks (or `only` those among them) and return the findings that fail the test."""
        codes = self.selected & only if only is not None else self.selected
        outcomes = run_checks(self.context, exchange, codes, test)
        self.outcomes.extend(outcomes)
        self.cassette.append(exchange.cassette_record(test))
        return [o.finding for o in outcomes if o.finding is not None and self.blocks(o.finding)]

    def check_attempts(
        self,
        exchange: Exchange,
        resend: Callable[[], Exchange] | None,
        attempts: int,
        test: str = "",
        only: set[str] | None = None,
    ) -> list[Finding]:
        """Like `check`, but a request that fails only behavioural checks is sent again (`resend`), up to
        `attempts` times in all; each attempt's outcomes are kept (retried findings as info)."""
        codes = self.selected & only if only is not None else self.selected
        for attempt in range(1, attempts + 1):
            outcomes = [
                dataclasses.replace(o, attempt=attempt) for o in run_checks(self.context, exchange, codes, test)
            ]
            self.cassette.append(exchange.cassette_record(test))
            blocking = [o.finding for o in outcomes if o.finding is not None and self.blocks(o.finding)]
            behavioural = all(CHECKS[f.code].behavioural for f in blocking)
            if not blocking or resend is None or attempt == attempts or not behavioural:
                self.outcomes.extend(outcomes)
                return blocking
            self.outcomes.extend(o.retried(attempt, attempts) for o in outcomes)
            exchange = resend()
        return []

    def record(self, outcomes: list[Outcome]) -> None:
        self.outcomes.extend(outcomes)

    def blocks(self, finding: Finding) -> bool:
        """Errors fail a test; warnings only under --strict; info never."""
        return finding.severity is Severity.ERROR or (self.strict and finding.severity is Severity.WARNING)
