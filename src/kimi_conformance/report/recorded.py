"""A finished run as its `results.json` recorded it: what `compare` and `kimi-conformance baseline` read.

Only the file is needed, not the run's process: the findings (each with what its fingerprint is made of), whether
warnings blocked (`--strict`), and which checks judged which operations (so that a baseline entry no finding
matched can be told fixed from not checked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kimi_conformance.errors import ConfigError
from kimi_conformance.findings import Finding, blocks

_FINDING_FIELDS = frozenset(f.name for f in fields(Finding))


def load_run(path: Path) -> dict[str, Any]:
    """results.json of a run folder (or the file itself)."""
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a run folder with a readable results.json ({exc})") from exc
    if not isinstance(data, dict) or "checks" not in data:
        raise ConfigError(f"{file}: not a kimi-conformance results.json")
    return data


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """A run's findings and what it judged, from its results.json."""

    run_id: str
    target: str
    settings: dict[str, Any]
    findings: tuple[Finding, ...]
    strict: bool
    checked: frozenset[tuple[str, str]]
    """(code, operation) pairs the run judged (passed or failed); an empty operation stands for all of a code's,
    for a results.json written before checks listed their operations."""

    @classmethod
    def of(cls, data: dict[str, Any], where: str = "results.json") -> RecordedRun:
        """The run `data` (a parsed results.json) describes, or a one-line ConfigError naming what is wrong."""
        try:
            settings = data.get("settings") or {}
            findings = tuple(
                Finding.from_json({k: v for k, v in item.items() if k in _FINDING_FIELDS})
                for item in data.get("findings") or []
            )
            checked: set[tuple[str, str]] = set()
            for check in data["checks"]:
                if int(check.get("passed", 0)) + int(check.get("failed", 0)) == 0:
                    continue
                operations = check.get("operations")
                checked |= (
                    {(check["code"], op) for op in operations} if operations is not None else {(check["code"], "")}
                )
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ConfigError(f"{where}: not a kimi-conformance results.json ({type(exc).__name__}: {exc})") from None
        strict = bool(settings.get("strict")) if isinstance(settings, dict) else False
        return cls(
            str(data.get("run_id", "?")), str(data.get("target", "?")), settings, findings, strict, frozenset(checked)
        )

    @classmethod
    def load(cls, path: Path) -> RecordedRun:
        """The run in a report folder (`reports/<run-id>`, `reports/latest`) or its results.json."""
        return cls.of(load_run(path), str(path))

    @property
    def blocking(self) -> list[Finding]:
        """The findings that failed the run (`findings.blocks` under the run's `--strict`)."""
        return [f for f in self.findings if blocks(f.severity, self.strict)]

    def provenance(self) -> str:
        """Where a baseline made from this run came from, for its header."""
        faults = self.settings.get("mock_faults") or []
        models = self.settings.get("models") or []
        parts = [f"run {self.run_id}", f"target {self.target}"]
        parts += [f"profile {self.settings['profile']}"] if self.settings.get("profile") else []
        parts += [f"models {', '.join(models)}"] if models else []
        parts += [f"mock faults {', '.join(faults)}"] if faults else []
        parts += ["strict (warnings block)"] if self.strict else []
        return "From " + "; ".join(parts) + "."
