"""The model x check matrix: for each check and each model of a run, one state a reader takes in at a glance.

A provider or a platform team first wants to know which check breaks on which model, before any finding. The state
of a cell comes from the run's outcomes: `fail` when a finding there blocks (`findings.blocks`: errors, warnings
under `--strict`), `warn` when a finding there does not block, `pass` when the check judged something there and
found nothing, `n/a` when it judged nothing, and `not offered` when every operation the check applies to is in a
group the target does not offer (`RunResult.operations`). A request naming no model (the models list, files,
batches) is the column `""` ("no model"). The matrix is data, built once: the HTML and Markdown reports render
it, `results.json` carries it (`matrix`) and `compare` puts the runs' matrices side by side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kimi_conformance.checks import CHECKS, Outcome, Status
from kimi_conformance.findings import blocks
from kimi_conformance.operations import group_of
from kimi_conformance.report.fingerprint import model_of

PASS, WARN, FAIL, NOT_APPLICABLE, NOT_OFFERED = "pass", "warn", "fail", "n/a", "not offered"
STATES = (FAIL, WARN, PASS, NOT_APPLICABLE, NOT_OFFERED)
"""The states of a cell, the worst first."""
NO_MODEL = ""
"""The column of the requests that name no model."""

_PARAMETERS = re.compile(r"\[([^\]]*)\]$")


def model_of_test(test: str, models: Iterable[str]) -> str:
    """The model a parametrised test id names (`test_stream[kimi-k2.6-plain]` → `kimi-k2.6`): the longest of
    `models` that is the id's parameter or starts it; `NO_MODEL` when none does."""
    found = _PARAMETERS.search(test)
    if found is None:
        return NO_MODEL
    parameter = found.group(1)
    for model in sorted(models, key=len, reverse=True):
        if parameter == model or parameter.startswith(model + "-"):
            return model
    return NO_MODEL


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One check: its code, title and severity, and its state on each model of the matrix (same order)."""

    code: str
    title: str
    severity: str
    cells: tuple[str, ...]

    @property
    def judged(self) -> bool:
        """Whether any cell is more than `n/a` (a row worth a reader's first screen)."""
        return any(state != NOT_APPLICABLE for state in self.cells)


@dataclass(frozen=True, slots=True)
class Matrix:
    """Checks x models: the rows in code order, the columns the models (`NO_MODEL` last, when any request had
    none)."""

    models: tuple[str, ...]
    rows: tuple[MatrixRow, ...]

    def judged_rows(self) -> list[MatrixRow]:
        return [row for row in self.rows if row.judged]

    def counts(self) -> dict[str, int]:
        """How many cells are in each state (of the judged rows)."""
        counts = dict.fromkeys(STATES, 0)
        for row in self.judged_rows():
            for state in row.cells:
                counts[state] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "rows": [
                {
                    "code": r.code,
                    "title": r.title,
                    "severity": r.severity,
                    "cells": dict(zip(self.models, r.cells, strict=True)),
                }
                for r in self.rows
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Matrix:
        """The matrix a results.json carries (`matrix`)."""
        models = tuple(str(m) for m in data.get("models") or [])
        rows = tuple(
            MatrixRow(
                str(row["code"]),
                str(row.get("title", "")),
                str(row.get("severity", "")),
                tuple(str(row.get("cells", {}).get(m, NOT_APPLICABLE)) for m in models),
            )
            for row in data.get("rows") or []
        )
        return cls(models, rows)


def _not_offered(code: str, missing: frozenset[str]) -> bool:
    check = CHECKS.get(code)
    if check is None or check.operations is None or not missing:
        return False
    return all(group_of(operation) in missing for operation in check.operations)


def build_matrix(
    outcomes: Iterable[Outcome],
    models: Iterable[str] = (),
    not_offered: Iterable[str] = (),
    strict: bool = False,
) -> Matrix:
    """The matrix of a run's outcomes; `models` are the run's (columns even where nothing was judged),
    `not_offered` the operation groups the target does not offer."""
    known = list(dict.fromkeys(models))
    states: dict[tuple[str, str], set[str]] = {}
    by_test: dict[str, str] = {}  # a run has some 100,000 outcomes of about 1,000 tests
    for outcome in outcomes:
        finding = outcome.finding
        model = model_of(finding.request) if finding is not None else ""
        if not model:
            named = by_test.get(outcome.test)
            model = named if named is not None else by_test.setdefault(outcome.test, model_of_test(outcome.test, known))
        if model and model not in known:
            known.append(model)
            by_test.clear()  # a model named by a finding alone: test ids may name it too
        if outcome.status is Status.FAILED and finding is not None:
            state = FAIL if blocks(finding.severity, strict) else WARN
        elif outcome.status is Status.PASSED:
            state = PASS
        elif outcome.status is Status.CRASHED:
            state = FAIL
        else:
            state = NOT_APPLICABLE
        states.setdefault((outcome.code, model), set()).add(state)
    columns = tuple(known) + ((NO_MODEL,) if any(model == NO_MODEL for _, model in states) else ())
    missing = frozenset(not_offered)
    codes = sorted({code for code, _ in states} | set(CHECKS))
    rows = []
    for code in codes:
        check = CHECKS.get(code)
        offered = not _not_offered(code, missing)
        cells = []
        for model in columns:
            seen = states.get((code, model), set())
            worst = next((s for s in STATES if s in seen), NOT_APPLICABLE)
            cells.append(NOT_OFFERED if worst == NOT_APPLICABLE and not offered else worst)
        title = check.title if check else ""
        severity = check.severity.value if check else "error"
        rows.append(MatrixRow(code, title, severity, tuple(cells)))
    return Matrix(columns, tuple(rows))
