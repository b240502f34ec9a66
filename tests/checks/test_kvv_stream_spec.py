"""KVV's stream-spec (verifiers §5) mapped case by case (`KVV_STREAM_SPEC`): every case the facts list is there, in
their order and words, each held by registered checks or saying why none holds it, and docs/checks.md shows the
table."""

from __future__ import annotations

import re

from kimi_conformance.checks import CHECKS
from kimi_conformance.checks.stream_spec import KVV_STREAM_SPEC
from kimi_conformance.cli.checks import render_markdown
from tests.facts_sections import sections

_BULLET = re.compile(r"^- \*\*(P[0-9])\*\*: (.*)", re.S)


def listed_cases() -> list[tuple[str, str]]:
    """(priority, case) for every case verifiers §5 lists: its `- **P0**: a; b; c.` bullets, split at `; `."""
    cases = []
    for bullet in re.split(r"\n(?=- )", sections("verifiers")["5"]):
        found = _BULLET.match(bullet)
        if found is not None:
            text = " ".join(found[2].split()).removesuffix(".")
            cases += [(found[1], case) for case in text.split("; ")]
    return cases


def test_every_case_of_the_stream_spec_is_mapped_in_order() -> None:
    assert [(case.priority, case.case) for case in KVV_STREAM_SPEC] == listed_cases()


def test_the_mapping_counts_the_cases_the_facts_list() -> None:
    """§5's heading says 22 cases; its P0/P1/P2 lists name 25 (10, 12 and 3). Every one listed is mapped: a change
    to the lists shows here and in the test above."""
    priorities = [case.priority for case in KVV_STREAM_SPEC]
    assert (priorities.count("P0"), priorities.count("P1"), priorities.count("P2")) == (10, 12, 3)
    assert "22 cases" in sections("verifiers")["5"].splitlines()[0]


def test_every_code_named_is_a_registered_check() -> None:
    named = {code for case in KVV_STREAM_SPEC for code in case.codes}
    assert named - set(CHECKS) == set()


def test_a_case_no_check_holds_says_why() -> None:
    unheld = [case for case in KVV_STREAM_SPEC if not case.codes]
    assert unheld and all(case.note.startswith(("not applicable: ", "not asserted: ")) for case in unheld)


def test_every_stream_spec_check_holds_a_case() -> None:
    module = "kimi_conformance.checks.stream_spec.checks"
    added = {code for code, check in CHECKS.items() if check.function.__module__ == module}
    assert added - {code for case in KVV_STREAM_SPEC for code in case.codes} == set()


def test_the_table_is_in_the_docs() -> None:
    markdown = render_markdown()
    section = markdown.split("## KVV stream-spec\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| P")]
    assert len(rows) == len(KVV_STREAM_SPEC)
    assert all(row.count(" | ") == 3 for row in rows), "a cell holds a `|`"
    for case, row in zip(KVV_STREAM_SPEC, rows, strict=True):
        assert row.startswith(f"| {case.priority} | {case.case} | ")
        assert all(f"`{code}`" in row for code in case.codes)
