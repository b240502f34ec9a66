"""A conformance session: the selected checks, the outcomes recorded so far, and how they fail a test.

Every exchange is judged the same way wherever it comes from (a suite, schemathesis, the proxy): the selected
checks run on it, and a streamed chat completion is also folded into the `chat.completion` it amounts to, which
faces the non-streaming checks. What fails a test is decided by `findings.blocks` alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance.cassette import record_of
from kimi_conformance.checks import CHECKS, CheckContext, Outcome, Status, run_checks
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Finding, blocks


@dataclass(slots=True)
class Judgement:
    """What the checks say against the test that sent the exchanges: blocking findings and crashed checks (of
    one exchange, or gathered over several with `extend`)."""

    findings: list[Finding] = field(default_factory=list)
    crashes: list[Outcome] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.findings or self.crashes)

    def extend(self, other: Judgement) -> None:
        """Gather another exchange's judgement into this one."""
        self.findings += other.findings
        self.crashes += other.crashes

    def distinct(self, limit: int) -> Judgement:
        """At most `limit` findings of distinct (code, message) and crashes of distinct (code, crash)."""
        findings = {(f.code, f.message): f for f in self.findings}
        crashes = {(o.code, o.crash): o for o in self.crashes}
        return Judgement(list(findings.values())[:limit], list(crashes.values())[:limit])

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(f.code for f in self.findings)

    def render(self) -> str:
        """The test's failure text: each crashed check on one line, then each blocking finding."""
        return "\n\n".join([*(o.crash_line() for o in self.crashes), *(f.render() for f in self.findings)])


@dataclass(slots=True)
class ConformanceSession:
    """Runs checks on exchanges and keeps every outcome for the reports."""

    context: CheckContext
    selected: frozenset[str]
    strict: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    cassette: list[dict[str, Any]] = field(default_factory=list)
    """Every exchange the run's clients sent (`sent`) and every exchange checked, once each, as cassette records
    (redacted), for `drift traffic`; a sent one never judged (a poll, a retried 429, a step of a scenario) says
    `"judged": false`."""
    current_test: str = ""
    """The test running now (the plugin sets it), named on what its requests record when sent."""

    def sent(self, exchange: Exchange) -> None:
        """Record an exchange as a client sent it; judging it later fills in its line."""
        exchange.recorded_at = len(self.cassette)
        self.cassette.append({**record_of(exchange, self.current_test), "judged": False})

    def _record(
        self, exchange: Exchange, test: str, only: set[str] | None = None, attempt: tuple[int, int] = (1, 1)
    ) -> dict[str, Any]:
        """Write the exchange's cassette line as judged (how: `only`, `attempt`), in place of its line as sent."""
        line = record_of(exchange, test, only=only, attempt=attempt)
        if exchange.recorded_at is not None and exchange.recorded_at < len(self.cassette):
            self.cassette[exchange.recorded_at] = line
        else:
            self.cassette.append(line)
        return line

    def check(self, exchange: Exchange, test: str = "", only: set[str] | None = None) -> Judgement:
        """Run the selected checks (or `only` those among them), record everything, and say what fails the test."""
        outcomes = self._judge(exchange, self._codes(only), test)
        self.outcomes.extend(outcomes)
        self._record(exchange, test, only)
        exchange.forget_stream()  # judged: an exchange a test keeps does not keep its decoded stream too
        return self._judgement(outcomes)

    def check_attempts(
        self,
        exchange: Exchange,
        resend: Callable[[], Exchange] | None,
        attempts: int,
        test: str = "",
        only: set[str] | None = None,
    ) -> Judgement:
        """Like `check`, but a request that fails only behavioural checks is sent again (`resend`), up to
        `attempts` times in all; each attempt's outcomes are kept (retried findings as info)."""
        codes = self._codes(only)
        for attempt in range(1, attempts + 1):
            outcomes = [dataclasses.replace(o, attempt=attempt) for o in self._judge(exchange, codes, test)]
            line = self._record(exchange, test, only, (attempt, attempts))
            exchange.forget_stream()
            judgement = self._judgement(outcomes)
            behavioural = not judgement.crashes and all(CHECKS[f.code].behavioural for f in judgement.findings)
            if not judgement or resend is None or attempt == attempts or not behavioural:
                self.outcomes.extend(outcomes)
                return judgement
            self.outcomes.extend(o.retried(attempt, attempts) for o in outcomes)
            line["retried"] = True  # its findings are kept as info: `recheck` does the same
            exchange = resend()
        return Judgement()

    def record(self, outcomes: list[Outcome]) -> None:
        self.outcomes.extend(outcomes)

    def _codes(self, only: set[str] | None) -> frozenset[str]:
        return self.selected & only if only is not None else self.selected

    def _judge(self, exchange: Exchange, codes: frozenset[str], test: str) -> list[Outcome]:
        """The checks on the exchange and, for a streamed completion, on the completion it folds into."""
        outcomes = run_checks(self.context, exchange, codes, test)
        folded = exchange.folded()
        if folded is not None:
            outcomes += run_checks(self.context, folded, codes, test)
        return outcomes

    def _judgement(self, outcomes: list[Outcome]) -> Judgement:
        return Judgement(
            [o.finding for o in outcomes if o.finding is not None and blocks(o.finding.severity, self.strict)],
            [o for o in outcomes if o.status is Status.CRASHED],
        )
