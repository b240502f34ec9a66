"""A run in parts: with pytest-xdist each worker writes what it recorded into the run's `parts/` folder, and the
controller merges the parts with its own into one `RunResult`."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_conformance.budget import Spending
from kimi_conformance.checks import Outcome
from kimi_conformance.fidelity import FidelityTally
from kimi_conformance.ledger import merge_accounts
from kimi_conformance.report import RunResult
from kimi_conformance.report.baseline import Baseline
from kimi_conformance.runner.state import RunState


def jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


@dataclass(slots=True)
class RunPart:
    """What one process recorded: outcomes, cassette lines, spending, and why the budget stopped it, if it did."""

    outcomes: list[Outcome] = field(default_factory=list)
    cassette: str = ""
    spending: Spending = field(default_factory=Spending)
    reached: str | None = None
    quota: bool = False
    account: dict[str, Any] | None = None
    fidelity: FidelityTally = field(default_factory=FidelityTally)
    """The fidelity suite's classified answers (`{worker}.fidelity.json` in a worker's part)."""

    @classmethod
    def of(cls, state: RunState) -> RunPart:
        spending = Spending()
        spending.add(state.guard.spent.as_json())
        return cls(
            list(state.session.outcomes),
            jsonl(state.session.cassette),
            spending,
            state.guard.reached,
            state.guard.quota_exceeded,
            state.account,
            fidelity=FidelityTally.from_json(state.fidelity.as_json()),  # a copy: absorbing adds to it
        )

    def write(self, parts: Path, worker: str) -> None:
        parts.mkdir(parents=True, exist_ok=True)
        spent = {
            "spending": self.spending.as_json(),
            "reached": self.reached,
            "quota": self.quota,
            "account": self.account,
        }
        (parts / f"{worker}.spending.json").write_text(json.dumps(spent), "utf-8")
        if self.outcomes:
            (parts / f"{worker}.json").write_text(json.dumps([o.as_json() for o in self.outcomes]), "utf-8")
        if self.cassette:
            (parts / f"{worker}.cassette.jsonl").write_text(self.cassette, "utf-8")
        if self.fidelity:
            (parts / f"{worker}.fidelity.json").write_text(json.dumps(self.fidelity.as_json()), "utf-8")

    def absorb(self, parts: Path) -> None:
        """Add every worker's part written into `parts`, then remove the folder."""
        if not parts.is_dir():
            return
        for part in sorted(parts.glob("*.spending.json")):
            data = json.loads(part.read_text("utf-8"))
            self.spending.add(data["spending"])
            self.reached = self.reached or data["reached"]
            self.quota = self.quota or data["quota"]
            self.account = merge_accounts(self.account, data.get("account"))
        for part in sorted(parts.glob("*.cassette.jsonl")):
            self.cassette += part.read_text("utf-8")
        for part in sorted(parts.glob("gw*[0-9].json")):
            self.outcomes += [Outcome.from_json(item) for item in json.loads(part.read_text("utf-8"))]
        for part in sorted(parts.glob("*.fidelity.json")):
            self.fidelity.absorb(FidelityTally.from_json(json.loads(part.read_text("utf-8"))))
        shutil.rmtree(parts)


def run_result(state: RunState, part: RunPart, baseline: Baseline | None = None) -> RunResult:
    """The whole run as data for the reports (its findings split against `baseline`, the run's `--baseline`)."""
    settings = state.settings
    return RunResult(
        run_id=state.run_id,
        target=settings.target,
        settings={
            "profile": settings.profile,
            "models": list(settings.models),
            "strict": settings.strict,
            "checks": list(settings.checks),
            "exclude_checks": list(settings.exclude_checks),
            "mock_faults": list(settings.mock_faults),
            "mock_lineup": settings.mock_lineup,
            "model_family": list(settings.model_family),
            "min_schema_accuracy": settings.min_schema_accuracy,
            "contract": settings.contract,
            "baseline": settings.baseline,
        },
        outcomes=part.outcomes,
        started_at=state.started,
        finished_at=time.time(),
        strict=settings.strict,
        tests=dict(state.tests.items()),
        spending=part.spending.as_json(),
        budget_reached=part.reached,
        not_run=[test for test in state.collected if test not in state.reported] if part.reached else [],
        account=part.account,
        models={"exercised": state.models, "not_offered": list(state.target_probe().not_offered)},
        operations=state.target_probe().operations.as_json(),
        recorded=recorded(part.cassette),
        fidelity=part.fidelity.as_json() if part.fidelity else None,
        min_schema_accuracy=settings.min_schema_accuracy,
        baseline=baseline,
        target_unusable=state.target_probe().problem,
    )


def recorded(cassette: str) -> dict[str, int]:
    """How many exchanges the cassette holds (every request sent within the budget, and every exchange judged),
    how many of them were sent but never judged (polls, retried 429s, schemathesis's own auth probes), and how many
    are streams the run did not send (failed fast after streams that stalled)."""
    lines = [json.loads(line) for line in cassette.split("\n") if line]
    return {
        "exchanges": len(lines),
        "unjudged": sum(1 for line in lines if line.get("judged") is False),
        "unsent": sum(1 for line in lines if line.get("sent") is False),
    }
