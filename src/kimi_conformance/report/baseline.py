"""Baselines: the findings a target is known to have, so that CI fails only on new ones.

A baseline is a TOML file with one `[[finding]]` entry per fingerprint (`report/fingerprint.py`: code, operation,
model, subject), each with a `reason` for a person to fill. TOML because the project's other reviewed data is TOML
(the config file, the rules table, the price table): the standard library reads it strictly (no implicit types,
no aliases), it takes comments, and each entry is a few lines of its own, so a review diff shows exactly what was
accepted and why. A run with `--baseline FILE` splits its blocking findings into *new* (which fail it) and *known*,
and lists the entries no finding matched as *fixed* (or *not checked*, when the run did not judge that check on that
operation at all, e.g. another suite or `--exclude-checks`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import Finding, Severity, blocks
from kimi_conformance.report.fingerprint import Fingerprint, fingerprint

BASELINE_VERSION = 1
_CODE = re.compile(r"[A-Z]{3,4}[0-9]{3}")
_REQUIRED = ("code", "operation", "model", "subject", "reason")
_OPTIONAL: dict[str, type] = {"severity": str, "count": int, "example": str, "test": str}
_RANK = {Severity.ERROR.value: 0, Severity.WARNING.value: 1, Severity.INFO.value: 2}


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One known finding: its fingerprint, why it is accepted, and what the run that recorded it saw."""

    fingerprint: Fingerprint
    reason: str = ""
    severity: str = ""
    count: int = 0
    """How many findings of the recording run had this fingerprint (information for the reader)."""
    example: str = ""
    """One of those findings' message, as it was (the subject is the normalised form)."""
    test: str = ""
    """The test that met it first."""

    def as_json(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint.id, **_fields(self.fingerprint), "reason": self.reason}


def _fields(fp: Fingerprint) -> dict[str, str]:
    return {"code": fp.code, "operation": fp.operation, "model": fp.model, "subject": fp.subject}


@dataclass(frozen=True, slots=True)
class BaselineSplit:
    """A run's findings against a baseline."""

    new: tuple[Finding, ...]
    """Blocking findings (`findings.blocks`) whose fingerprint is not in the baseline: these fail the run."""
    known: tuple[Finding, ...]
    """Findings whose fingerprint is in the baseline: listed, never failing."""
    fixed: tuple[BaselineEntry, ...]
    """Entries no finding matched, although the run judged their check on their operation."""
    unchecked: tuple[BaselineEntry, ...]
    """Entries the run could not confirm either way: it never judged their check on their operation."""

    def counts(self) -> str:
        """`1 new, 15 known, 2 fixed, 0 not checked` (findings; fixed and not checked: baseline entries)."""
        return (
            f"{len(self.new)} new, {len(self.known)} known, {len(self.fixed)} fixed, {len(self.unchecked)} not checked"
        )

    def new_fingerprints(self) -> list[tuple[Fingerprint, int]]:
        """The new findings' fingerprints, each with how many findings share it."""
        counted: dict[Fingerprint, int] = {}
        for finding in self.new:
            fp = fingerprint(finding)
            counted[fp] = counted.get(fp, 0) + 1
        return sorted(counted.items())

    def lines(self, baseline: Baseline, limit: int = 20) -> list[str]:
        """What a console shows: the counts, each new fingerprint, each fixed entry (at most `limit` of each)."""
        lines = [f"baseline {baseline.path}: {self.counts()}"]
        if baseline.without_reason:
            lines[0] += f" ({baseline.without_reason} of its {len(baseline.entries)} entries have no reason yet)"
        new = self.new_fingerprints()
        lines += [f"  new {fp.id}  {fp.line()} ({n} finding(s))" for fp, n in new[:limit]]
        lines += [f"  fixed {e.fingerprint.id}  {e.fingerprint.line()}" for e in self.fixed[:limit]]
        hidden = max(0, len(new) - limit) + max(0, len(self.fixed) - limit)
        return lines + ([f"  ... and {hidden} more in results.json"] if hidden else [])

    def as_json(self, baseline: Baseline) -> dict[str, Any]:
        """results.json's `baseline`: the file, the counts, the new fingerprints and the fixed and unchecked entries."""
        return {
            "file": baseline.path,
            "entries": len(baseline.entries),
            "without_reason": baseline.without_reason,
            "new": len(self.new),
            "known": len(self.known),
            "new_fingerprints": [
                {**_fields(fp), "fingerprint": fp.id, "findings": n} for fp, n in self.new_fingerprints()
            ],
            "fixed": [entry.as_json() for entry in self.fixed],
            "not_checked": [entry.as_json() for entry in self.unchecked],
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    """A baseline file, read and validated."""

    path: str
    entries: tuple[BaselineEntry, ...] = ()
    _index: dict[Fingerprint, BaselineEntry] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update((entry.fingerprint, entry) for entry in self.entries)

    def __contains__(self, fp: object) -> bool:
        return fp in self._index

    def get(self, fp: Fingerprint) -> BaselineEntry | None:
        return self._index.get(fp)

    def split(self, findings: Iterable[Finding], strict: bool, checked: frozenset[tuple[str, str]]) -> BaselineSplit:
        """New, known, fixed and not-checked, for findings of a run under `strict` that judged the (code,
        operation) pairs in `checked` (a pair with an empty operation stands for every operation of the code)."""
        new, known, seen = [], [], set()
        for finding in findings:
            fp = fingerprint(finding)
            if fp in self._index:
                known.append(finding)
                seen.add(fp)
            elif blocks(finding.severity, strict):
                new.append(finding)
        missing = [entry for entry in self.entries if entry.fingerprint not in seen]
        fixed = tuple(e for e in missing if _judged(e.fingerprint, checked))
        unchecked = tuple(e for e in missing if not _judged(e.fingerprint, checked))
        return BaselineSplit(tuple(new), tuple(known), fixed, unchecked)

    @property
    def without_reason(self) -> int:
        return sum(1 for entry in self.entries if not entry.reason.strip())


def _judged(fp: Fingerprint, checked: frozenset[tuple[str, str]]) -> bool:
    """Did the run judge the fingerprint's check on its operation (or, from an older results.json, at all)?"""
    return (fp.code, fp.operation) in checked or (fp.code, "") in checked


def read_baseline(path: Path, shown: str | None = None) -> Baseline:
    """The baseline in `path` (named `shown` in reports, as the user gave it), or a one-line ConfigError saying what
    is wrong with it (and where)."""
    name = shown or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"baseline {name}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"baseline {name}: not UTF-8 (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"baseline {name}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"version", "finding"})
    if unknown:
        raise ConfigError(f"baseline {name}: unknown key(s) {', '.join(unknown)}; a baseline has `version` and "
                          "[[finding]] entries")  # fmt: skip
    if data.get("version") != BASELINE_VERSION:
        raise ConfigError(f"baseline {name}: `version = {BASELINE_VERSION}` expected, not {data.get('version')!r}")
    items = data.get("finding", [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ConfigError(f"baseline {name}: `finding` must be an array of tables ([[finding]] entries)")
    entries: dict[Fingerprint, BaselineEntry] = {}
    for number, item in enumerate(items, start=1):
        entry = _entry(item, f"baseline {name}: entry {number}")
        if entry.fingerprint in entries:
            raise ConfigError(f"baseline {name}: entry {number} repeats an earlier one ({entry.fingerprint.line()})")
        entries[entry.fingerprint] = entry
    return Baseline(name, tuple(entries.values()))


def _entry(item: dict[str, Any], where: str) -> BaselineEntry:
    code = item.get("code")
    if isinstance(code, str):
        where += f" ({code})"
    unknown = sorted(set(item) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key in _REQUIRED:
        if not isinstance(item.get(key), str):
            problem = "is missing" if key not in item else f"must be a string, not {item[key]!r}"
            raise ConfigError(f"{where}: `{key}` {problem}")
    for key, kind in _OPTIONAL.items():
        if key in item and (not isinstance(item[key], kind) or isinstance(item[key], bool)):
            raise ConfigError(f"{where}: `{key}` must be {'an integer' if kind is int else 'a string'}")
    if not _CODE.fullmatch(item["code"]):
        raise ConfigError(f"{where}: `code` must be a check code such as CHAT004, not {item['code']!r}")
    fp = Fingerprint(item["code"], item["operation"], item["model"], item["subject"])
    extra = {key: item[key] for key in _OPTIONAL if key in item}
    return BaselineEntry(fp, item["reason"], **extra)


def entries_of(findings: Iterable[Finding], reasons: Baseline | None = None) -> list[BaselineEntry]:
    """One entry per fingerprint of `findings`, in a stable order, counting the findings of each; a fingerprint
    `reasons` already has keeps its reason."""
    grouped: dict[Fingerprint, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(fingerprint(finding), []).append(finding)
    entries = []
    for fp, group in sorted(grouped.items()):
        previous = reasons.get(fp) if reasons is not None else None
        gravest = min((f.severity.value for f in group), key=_RANK.__getitem__)
        reason = previous.reason if previous is not None else ""
        entries.append(BaselineEntry(fp, reason, gravest, len(group), group[0].message, group[0].test))
    return entries


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL is the one character TOML wants escaped besides)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def render_baseline(entries: Iterable[BaselineEntry], provenance: str) -> str:
    """The baseline file: a header saying where it came from and how it is used, then one entry per fingerprint."""
    lines = [
        "# kimi-conformance baseline: the known findings a run with `--baseline FILE` does not fail on.",
        *(f"# {line}" for line in provenance.split("\n")),
        "# Review each entry and say in `reason` why it is accepted (a ticket, the vendor's answer). The four keys",
        "# before it identify the finding (numbers, ids and generated values in `subject` are placeholders); the",
        "# keys after it are what the recording run saw. `kimi-conformance baseline update RUN --baseline FILE`",
        "# keeps the reasons, adds the new findings and drops the fixed ones.",
        "",
        f"version = {BASELINE_VERSION}",
    ]
    for entry in entries:
        lines += ["", "[[finding]]"]
        lines += [f"{key} = {_toml_string(value)}" for key, value in _fields(entry.fingerprint).items()]
        lines.append(f"reason = {_toml_string(entry.reason)}")
        for name in ("severity", "count", "example", "test"):
            value = getattr(entry, name)
            if value:
                lines.append(f"{name} = {value if isinstance(value, int) else _toml_string(value)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class BaselineUpdate:
    """A baseline brought up to date with a run (`kimi-conformance baseline update`)."""

    entries: tuple[BaselineEntry, ...]
    added: tuple[BaselineEntry, ...]
    """Fingerprints of the run's blocking findings the baseline did not have (their reason is to be filled)."""
    dropped: tuple[BaselineEntry, ...]
    """Entries the run showed fixed."""
    kept: tuple[BaselineEntry, ...]
    """Entries the run did not check (kept as they were)."""


def updated(
    baseline: Baseline, findings: Iterable[Finding], strict: bool, checked: frozenset[tuple[str, str]]
) -> BaselineUpdate:
    """The baseline after a run: the entries still met keep their reason (and get the run's counts), the run's new
    blocking findings are added, the fixed entries dropped, and the entries the run did not check kept as they
    were; in the baseline's order, the added ones after it."""
    findings = list(findings)
    split = baseline.split(findings, strict, checked)
    met = {e.fingerprint: e for e in entries_of([*split.known, *split.new], baseline)}
    unchecked = set(split.unchecked)
    entries = [met.pop(e.fingerprint, e) for e in baseline.entries if e.fingerprint in met or e in unchecked]
    added = tuple(met.values())
    return BaselineUpdate((*entries, *added), added, split.fixed, split.unchecked)
