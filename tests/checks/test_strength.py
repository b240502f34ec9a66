"""Strength follows the fact: every check cites the fact it asserts, every citation parses and resolves to a
section of docs/facts/ that carries the tags it names, and every error check rests on a firm tag ([D], [S],
[KVV], or a standard); [O] and [I] give warnings."""

from __future__ import annotations

import pytest

from kimi_conformance.checks import CHECKS
from kimi_conformance.checks.registry import FIRM_TAGS, RULE, Check, Citation, parse_fact
from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import Severity
from kimi_conformance.rules import load_rules
from tests.facts_sections import DOCUMENTS, section_tags, sections

STANDARDS = {
    "RFC 8259": "JSON",
    "RFC 9110": "HTTP semantics",
    "RFC 9112": "HTTP/1.1 message framing",
    "WHATWG SSE": "HTML Living Standard, server-sent events",
}
"""The standards a check may rest on instead of a Moonshot fact."""


def unresolved(citation: Citation) -> str | None:
    """Why a citation does not resolve, or None when it does."""
    if citation.source in DOCUMENTS:
        assert citation.section is not None
        if citation.section not in sections(citation.source):
            return f"{citation.where} is no section of {DOCUMENTS[citation.source].name}"
        carried = section_tags(citation.source, citation.section)
        missing = set(citation.tags) - carried
        if missing:
            named = "".join(f"[{tag}]" for tag in sorted(missing))
            return f"{citation.where} carries no {named} (it has {''.join(f'[{tag}]' for tag in sorted(carried))})"
        return None
    if citation.source == "rules table":
        return None if load_rules().rules else "the rules table has no rules"
    return None if citation.source in STANDARDS else f"{citation.source} is no standard of {sorted(STANDARDS)}"


def rests_on(check: Check) -> str:
    """`CHNK007 error rests on [O] (facts §12)`: a check, its severity, its tags and where they come from."""
    tags = "".join(f"[{tag}]" for tag in sorted(check.tags))
    return f"{check.code} {check.severity.value} rests on {tags} ({'; '.join(c.where for c in check.citations)})"


def test_every_error_check_rests_on_a_firm_fact() -> None:
    """An error finding rests on a [D], [S] or [KVV] fact or a standard; the rule probes (`rules table [rule]`)
    take their strength per rule from the table. Branches resting on [O] or [I] raise warnings of their own."""
    weak = [
        rests_on(check)
        for check in sorted(CHECKS.values(), key=lambda c: c.code)
        if check.severity is Severity.ERROR and not check.tags & (FIRM_TAGS | {RULE})
    ]
    assert weak == [], "error checks without a firm fact ([D], [S], [KVV], [standard]):\n" + "\n".join(weak)


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_fact_citation_resolves(code: str) -> None:
    check = CHECKS[code]
    problems = [problem for citation in check.citations if (problem := unresolved(citation))]
    assert problems == [], f"{rests_on(check)}: " + "; ".join(problems)


def test_the_rules_table_is_cited_by_the_rule_probes_only() -> None:
    """`rules table [rule]` hands a check's strength to each rule: only the rule-probing checks may say it."""
    delegating = sorted(code for code, check in CHECKS.items() if RULE in check.tags)
    assert delegating == ["RULE001", "RULE002", "RULE003"]
    assert all(CHECKS[code].tags == {RULE} for code in delegating)


def test_observed_and_inferred_facts_are_not_firm() -> None:
    assert not FIRM_TAGS & {"O", "I"} and {"D", "S", "KVV", "standard"} <= FIRM_TAGS


def test_sections_are_read_up_to_the_next_heading_of_their_level() -> None:
    facts = sections("facts")
    assert facts["3.10"].startswith("### 3.10 Streaming (SSE)") and "## 4." not in facts["3.10"]
    assert "### 3.10" in facts["3"] and "### 3.1 " in facts["3"] and "## 4." not in facts["3"]
    assert section_tags("facts", "12") == {"O"}  # "all [O] unless tagged otherwise"; it names [D]/[S]/[KVV] only
    assert section_tags("facts", "3.10") == {"D", "S", "KVV", "O", "I"}
    assert section_tags("verifiers", "5") >= {"O"} and "KVV" not in section_tags("verifiers", "5")
    assert "KVV" in section_tags("verifiers", "2")


@pytest.mark.parametrize(
    ("fact", "citations"),
    [
        ("facts §3.10 [D]", [("facts", "3.10", ("D",))]),
        ("facts §3.9 [S][D]; verifiers §2 [KVV]", [("facts", "3.9", ("S", "D")), ("verifiers", "2", ("KVV",))]),
        ("RFC 9110 [standard]", [("RFC 9110", None, ("standard",))]),
        ("WHATWG SSE [standard]; facts §12 [O]", [("WHATWG SSE", None, ("standard",)), ("facts", "12", ("O",))]),
        ("rules table [rule]", [("rules table", None, ("rule",))]),
    ],
)
def test_a_citation_parses(fact: str, citations: list[tuple[str, str | None, tuple[str, ...]]]) -> None:
    parsed = parse_fact(fact)
    assert [(c.source, c.section, c.tags) for c in parsed] == citations
    assert "; ".join(map(str, parsed)) == fact


@pytest.mark.parametrize(
    "fact",
    [
        "",
        "facts §3.10",
        "facts 3.10 [D]",
        "facts §3.10 [X]",
        "facts §3.10 [D][D]",
        "facts §3.10 [standard]",
        "verifiers §2.1 [KVV]",
        "RFC 9110 [D]",
        "rules table [D]",
        "facts §3.10 [D];facts §3.9 [S]",
        "see the docs",
    ],
)
def test_a_malformed_citation_is_refused(fact: str) -> None:
    with pytest.raises(ConfigError, match="fact citation"):
        parse_fact(fact)


def test_a_check_cannot_be_registered_without_a_parsable_fact() -> None:
    from kimi_conformance.checks import check

    def unregistered(ctx: object, exchange: object) -> None:
        """Never registered."""

    with pytest.raises(ConfigError, match="fact citation"):
        check("TEST997", "Never", "#/", fact="facts 3.10 [D]")(unregistered)
    assert "TEST997" not in CHECKS
