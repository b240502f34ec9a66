"""The project's facts documents (docs/facts/) cut into numbered sections, so a test can look up what a citation
such as `facts §3.6 [KVV]` or `verifiers §5` points at, and which source tags that section carries."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

FACTS = Path(__file__).resolve().parents[1] / "docs" / "facts"
DOCUMENTS = {"facts": FACTS / "moonshot-api-facts.md", "verifiers": FACTS / "moonshot-verifiers.md"}
IMPLICIT = {("verifiers", "1"): "KVV", ("verifiers", "2"): "KVV", ("verifiers", "3"): "KVV"}
"""Sections whose claims carry no tag of their own: moonshot-verifiers.md says all its facts are read from Moonshot's
repositories (K2VV, KVV, walle) "unless tagged [inference]" — §1-§3. Its §4 is the project's plan, and §5 (the KVV
stream-spec) is known second-hand, [O]."""
_HEADING = re.compile(r"^(#{2,3}) ([0-9]+(?:\.[0-9]+)?)\.?\s")
_TAG = re.compile(r"(?<![/\w])\[(D|S|KVV|O|I|inference)(?:\]|[\s:][^\]]*\])(?!/)")
"""A claim's tag: `[D]`, `[D chat]`, `[I: ...]`; not `[D?` (doubtful), nor a list of tag names (`[D]/[S]/[KVV]`)."""


@cache
def sections(document: str) -> dict[str, str]:
    """Section number → its text (the heading line to the next heading of the same or a higher level), from the
    `## N.` and `### N.M` headings of a facts document (fenced code blocks skipped)."""
    found: dict[str, str] = {}
    open_sections: list[tuple[int, str, list[str]]] = []
    fenced = False
    for line in DOCUMENTS[document].read_text("utf-8").splitlines():
        fenced ^= line.startswith("```")
        heading = None if fenced else _HEADING.match(line)
        if heading is not None:
            level = len(heading[1])
            while open_sections and open_sections[-1][0] >= level:
                _, number, text = open_sections.pop()
                found[number] = "\n".join(text)
            open_sections.append((level, heading[2], []))
        for _, _, text in open_sections:
            text.append(line)
    for _, number, text in open_sections:
        found[number] = "\n".join(text)
    return found


def section_tags(document: str, section: str) -> frozenset[str]:
    """The source tags a section's text carries (`[D chat]` is [D], `[inference]` is [I]), and its implicit one."""
    tags = {"I" if tag == "inference" else tag for tag in _TAG.findall(sections(document)[section])}
    implicit = IMPLICIT.get((document, section))
    return frozenset(tags | ({implicit} if implicit else set()))


_CITED = re.compile(r"§(\d+(?:\.\d+)*)")


def cited_sections(citation: str) -> list[tuple[str, str]]:
    """(document, section) pairs a citation names: `facts §3.6, §3.7` -> [(facts, 3.6), (facts, 3.7)]."""
    document = "verifiers" if citation.lstrip().startswith("verifiers") else "facts"
    return [(document, number) for number in _CITED.findall(citation)]
