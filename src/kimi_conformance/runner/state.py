"""One run's state in one process (the xdist controller, a worker, or a plain pytest run): its settings, budget,
recorder of outcomes, test counts, and the target probe that tells which models it exercises."""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance.budget import Guard
from kimi_conformance.checks import CheckContext, select
from kimi_conformance.fidelity import FidelityTally
from kimi_conformance.pricing import load_prices, priced_aliases
from kimi_conformance.runner.foreign_contract import load_foreign_contract
from kimi_conformance.runner.plan import Plan
from kimi_conformance.runner.session import ConformanceSession
from kimi_conformance.runner.target import TargetProbe, probe_target
from kimi_conformance.settings import Settings

REACHABILITY = frozenset({"HTTP001", "HTTP005"})
"""The checks that judge the target probe (does the target answer, and finish its answer)."""


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def guard_share(settings: Settings, workers: int) -> Guard:
    """One process's share of the run's budget and rate (each of `workers` processes sends requests)."""

    def share(total: int | None) -> int | None:
        return None if total is None else max(1, total // workers)

    return Guard(
        max_requests=share(settings.max_requests),
        max_tokens=share(settings.max_tokens),
        rpm=settings.rpm / workers if settings.rpm else None,
        max_retries=settings.max_retries,
        prices=priced_aliases(load_prices(settings.price_table), settings.aliases()),
    )


@dataclass(slots=True)
class RunState:
    """Everything one process of a run keeps between pytest's hooks."""

    settings: Settings
    run_id: str
    guard: Guard
    session: ConformanceSession
    started: float = field(default_factory=time.time)
    tests: Counter[str] = field(default_factory=Counter)
    """pytest's own counts (passed, failed, skipped, error)."""
    collected: list[str] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)
    """Tests that ran (were reported other than as not run for the budget)."""
    probe: TargetProbe | None = None
    account: dict[str, Any] | None = None
    """What this process's client created on the account and removed (`AccountLedger.summary()`), once done."""
    fidelity: FidelityTally = field(default_factory=FidelityTally)
    """The tool-call fidelity suite's classified answers (merged across workers like the outcomes)."""
    plan: Plan | None = None
    """The ceilings of the tests this process collected (`runner/plan.py`), which its guard holds them to."""

    @classmethod
    def start(cls, settings: Settings, workers: int, run_id: str | None = None) -> RunState:
        session = ConformanceSession(
            context=CheckContext(aliases=settings.aliases()),
            selected=select(settings.checks, settings.exclude_checks),
            strict=settings.strict,
        )
        if settings.contract is not None:
            load_foreign_contract(settings.contract)  # a document the contract suite cannot use: a usage error now
        return cls(settings, run_id or new_run_id(), guard_share(settings, workers), session)

    def target_probe(self) -> TargetProbe:
        """The target probe: sent at most once per run (here, or by the xdist controller, which hands it to its
        workers); a broken answer is recorded under the reachability checks where it was sent."""
        if self.probe is None:
            self.probe = probe_target(self.settings, self.guard, observer=self.session.sent)
            if self.probe.exchange is not None and self.probe.problem is not None:
                self.session.check(self.probe.exchange, "target reachability", set(REACHABILITY))
            if self.probe.unanswered is not None:  # an operations probe (`runner/discovery.py`) got no answer
                self.session.check(self.probe.unanswered, "target reachability", set(REACHABILITY))
        return self.probe

    @property
    def models(self) -> list[str]:
        """The model ids the run exercises, as the target names them."""
        return list(self.target_probe().models)


def worker_count(numprocesses: object, workercount: object | None) -> int:
    """How many processes send requests: a worker's `workercount`, else `-n` (a number or `auto`), else one."""
    if workercount is not None:
        return int(str(workercount))
    if isinstance(numprocesses, int) and numprocesses > 0:
        return numprocesses
    return os.cpu_count() or 1 if numprocesses == "auto" else 1
