"""The registry of checks: each a small function with a stable code, a name stating the property, a title,
a severity and a spec reference (a JSON pointer into the contract)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import Severity

if TYPE_CHECKING:
    from kimi_conformance.checks.context import CheckContext
    from kimi_conformance.exchange import Exchange

CheckFunction = Callable[["CheckContext", "Exchange"], None]
_CODE = re.compile(r"^[A-Z]{3,4}[0-9]{3}$")


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check."""

    code: str
    name: str
    title: str
    severity: Severity
    spec: str
    doc: str
    function: CheckFunction
    operations: frozenset[str] | None
    """operationIds the check applies to; None for every operation."""
    behavioural: bool = False
    """Judges what a model chose to do (JSON content, tool arguments), not what the server must do: `--attempts K`
    resends a request that fails only such checks, and reports pass@1 and pass@k."""

    def applies_to(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations


CHECKS: dict[str, Check] = {}


def check(
    code: str,
    title: str,
    spec: str,
    *,
    severity: Severity = Severity.ERROR,
    operations: Iterable[str] | None = None,
    behavioural: bool = False,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under a stable `code`; its function name is its name, its docstring's first line its doc."""

    def register(function: CheckFunction) -> CheckFunction:
        doc = inspect.getdoc(function)
        if not _CODE.match(code):
            raise ConfigError(f"check code {code!r} must look like HTTP001")
        if code in CHECKS or any(c.name == function.__name__ for c in CHECKS.values()):
            raise ConfigError(f"check {code} / {function.__name__} is registered twice")
        if not doc:
            raise ConfigError(f"check {code} needs a one-line docstring")
        CHECKS[code] = Check(
            code=code,
            name=function.__name__,
            title=title,
            severity=severity,
            spec=spec,
            doc=doc.partition("\n")[0],
            function=function,
            operations=frozenset(operations) if operations is not None else None,
            behavioural=behavioural,
        )
        return function

    return register


def select(include: Iterable[str] = (), exclude: Iterable[str] = ()) -> frozenset[str]:
    """Codes of the checks chosen by `--checks` / `--exclude-checks` (each entry a code or a name)."""
    by_name = {c.name: c.code for c in CHECKS.values()}

    def resolve(entries: Iterable[str]) -> set[str]:
        codes = set()
        for entry in entries:
            for item in filter(None, (part.strip() for part in entry.split(","))):
                code = item.upper() if item.upper() in CHECKS else by_name.get(item)
                if code is None:
                    raise ConfigError(f"unknown check {item!r}; `kimi-conformance checks` lists them")
                codes.add(code)
        return codes

    chosen = resolve(include) or set(CHECKS)
    return frozenset(chosen - resolve(exclude))
