"""The registry of checks: each a small function with a stable code, a name stating the property, a title,
a severity, a spec reference (a JSON pointer into the contract) and the fact it asserts.

Strength follows the fact: an error finding rests on a [D], [S] or [KVV] fact (or a standard), cited; [O] and [I]
give warnings. Each check's `fact` cites what its claim rests on, e.g. `facts §3.10 [D]` (a section of
docs/facts/moonshot-api-facts.md and its source tags), `verifiers §2 [KVV]` (docs/facts/moonshot-verifiers.md),
`RFC 9110 [standard]`, or `rules table [rule]` (the rule probes, whose strength is each rule's own); several
citations are joined by `; `. `tests/checks/test_strength.py` holds every error check to a firm tag and resolves
every cited section."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import Severity
from kimi_conformance.rules import FIRM_TAGS as FIRM_FACT_TAGS

if TYPE_CHECKING:
    from kimi_conformance.checks.context import CheckContext
    from kimi_conformance.exchange import Exchange

CheckFunction = Callable[["CheckContext", "Exchange"], None]
_CODE = re.compile(r"^[A-Z]{3,4}[0-9]{3}$")

FACT_TAGS = ("D", "S", "KVV", "O", "I")
"""Source tags of the facts documents: documented, published spec, Moonshot's verifier, observed, inference."""
STANDARD = "standard"
"""The tag of a citation of a standard (HTTP framing, the SSE standard, JSON) rather than a Moonshot fact."""
RULE = "rule"
"""The tag of `rules table [rule]`: each finding is as strong as its rule of the table (`Rule.strength`)."""
FIRM_TAGS = FIRM_FACT_TAGS | {STANDARD}
"""Tags an error finding may rest on: the firm source tags of the facts (`rules.FIRM_TAGS`, which the rules table
holds its rules to) and a standard; [O] and [I] give warnings."""
_CITATION = re.compile(
    r"^(?:(?P<document>facts|verifiers) §(?P<section>[0-9]+(?:\.[0-9]+)?)|(?P<name>rules table|[A-Z][A-Za-z0-9 .-]*?))"
    r" (?P<tags>(?:\[[A-Za-z]+\])+)$"
)


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited fact: a section of a facts document and its tags, a standard, or the rules table."""

    source: str
    """`facts`, `verifiers`, `rules table`, or the standard's name (`RFC 9110`, `WHATWG SSE`)."""
    section: str | None
    """`3.10` for `facts §3.10`; None for a standard or the rules table."""
    tags: tuple[str, ...]

    @property
    def where(self) -> str:
        """`facts §3.10`, `RFC 9110`: the citation without its tags."""
        return f"{self.source} §{self.section}" if self.section is not None else self.source

    def __str__(self) -> str:
        return self.where + " " + "".join(f"[{tag}]" for tag in self.tags)


def parse_fact(text: str) -> tuple[Citation, ...]:
    """The citations of a check's `fact` (`facts §3.9 [S][D]; RFC 8259 [standard]`); ConfigError when one does
    not parse: a facts section with tags among [D] [S] [KVV] [O] [I] (`verifiers §N` has no subsections), a
    standard with `[standard]` only, or `rules table [rule]`."""
    citations = []
    for part in text.split("; "):
        found = _CITATION.match(part)
        if found is None:
            raise ConfigError(f"fact citation {part!r} must look like 'facts §3.10 [D]' or 'RFC 9110 [standard]'")
        tags = tuple(re.findall(r"\[([A-Za-z]+)\]", found["tags"]))
        document, section, name = found["document"], found["section"], found["name"]
        if document is not None:
            allowed: tuple[str, ...] = FACT_TAGS
            if document == "verifiers" and "." in section:
                raise ConfigError(f"fact citation {part!r}: verifiers sections have no subsections")
        else:
            allowed = (RULE,) if name == "rules table" else (STANDARD,)
        if not set(tags) <= set(allowed) or len(set(tags)) != len(tags):
            raise ConfigError(f"fact citation {part!r}: tags must be distinct, among {' '.join(allowed)}")
        citations.append(Citation(document or name, section, tags))
    return tuple(citations)


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
    fact: str = field(kw_only=True)
    """The fact the check asserts, cited: `facts §3.10 [D]`, `verifiers §2 [KVV]`, `RFC 9110 [standard]` (see
    `parse_fact`)."""

    def applies_to(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations

    @property
    def citations(self) -> tuple[Citation, ...]:
        return parse_fact(self.fact)

    @property
    def tags(self) -> frozenset[str]:
        """Every tag the check's citations name."""
        return frozenset(tag for citation in self.citations for tag in citation.tags)


CHECKS: dict[str, Check] = {}


def check(
    code: str,
    title: str,
    spec: str,
    *,
    fact: str,
    severity: Severity = Severity.ERROR,
    operations: Iterable[str] | None = None,
    behavioural: bool = False,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under a stable `code`; its function name is its name, its docstring's first paragraph (one
    sentence, whole) its doc; `fact` cites the fact its claim rests on (`parse_fact`)."""

    def register(function: CheckFunction) -> CheckFunction:
        doc = inspect.getdoc(function)
        if not _CODE.match(code):
            raise ConfigError(f"check code {code!r} must look like HTTP001")
        if code in CHECKS or any(c.name == function.__name__ for c in CHECKS.values()):
            raise ConfigError(f"check {code} / {function.__name__} is registered twice")
        if not doc:
            raise ConfigError(f"check {code} needs a one-line docstring")
        parse_fact(fact)
        CHECKS[code] = Check(
            code=code,
            name=function.__name__,
            title=title,
            severity=severity,
            spec=spec,
            doc=" ".join(doc.partition("\n\n")[0].split()),
            function=function,
            operations=frozenset(operations) if operations is not None else None,
            behavioural=behavioural,
            fact=fact,
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
