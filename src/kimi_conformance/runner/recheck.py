"""A recorded run or proxy session judged again with today's checks, offline: no target, no request.

The cassette (`cassette.jsonl` of a run folder or of a proxy's record folder) keeps every exchange as the checks saw
it (`cassette.py`). Each line the run judged is rebuilt and judged again as the run judged it: under its test, with
`only` the checks it was judged with, its attempt of `--attempts` (a retried attempt's findings are info), and the
run's context read from its `results.json` (model aliases, strictness, the checks it selected), which the caller may
override. Lines the run only sent (`"judged": false`: polls, retried 429s, auth probes) are not judged now either;
a line whose body the cassette cut cannot be judged as it was, and is counted, not judged. The result is a RunResult
like a run's, compared finding by finding with the run's own `results.json` when there is one.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_conformance import strict_json
from kimi_conformance.cassette import body_complete, exchange_of
from kimi_conformance.checks import CHECKS, CheckContext, select
from kimi_conformance.errors import ConfigError
from kimi_conformance.report import RunResult
from kimi_conformance.report.baseline import Baseline
from kimi_conformance.runner.session import ConformanceSession
from kimi_conformance.settings import Settings

CASSETTE = "cassette.jsonl"


@dataclass(frozen=True, slots=True)
class Recording:
    """A cassette and what was recorded beside it."""

    cassette: Path
    lines: list[dict[str, Any]]
    kind: str
    """`run` (a results.json beside it), `proxy` (a proxy.json beside it) or `cassette` (nothing beside it)."""
    results: dict[str, Any] = field(default_factory=dict)
    """The run's results.json (empty for a proxy session or a bare cassette)."""

    @property
    def settings(self) -> dict[str, Any]:
        found = self.results.get("settings")
        return found if isinstance(found, dict) else {}


def read_recording(path: Path) -> Recording:
    """The cassette at `path` (a run folder, a proxy's record folder, or the `.jsonl` file), or a one-line
    ConfigError saying why it cannot be judged again."""
    cassette = path / CASSETTE if path.is_dir() else path
    try:
        text = cassette.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the cassette {cassette}: {getattr(exc, 'strerror', None) or exc}") from None
    lines = []
    for number, line in enumerate(strict_json.jsonl_lines(text), start=1):
        try:
            record = strict_json.loads(line)
            exchange_of(record)  # every line is checked before anything is judged
        except ValueError as exc:
            raise ConfigError(f"{cassette}, line {number}: not a cassette line ({exc})") from None
        if "intent" not in record:
            raise ConfigError(f"{cassette}, line {number}: recorded before cassettes kept what the checks read (no "
                              "`intent`): it cannot be judged as it was; record it again")  # fmt: skip
        lines.append(record)
    if not lines:
        raise ConfigError(f"{cassette} holds no exchange")
    folder = cassette.parent
    if (folder / "results.json").is_file():
        try:
            results = strict_json.loads((folder / "results.json").read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{folder / 'results.json'} is not a run's results: {exc}") from None
        if not isinstance(results, dict):
            raise ConfigError(f"{folder / 'results.json'} is not a run's results (no JSON object)")
        return Recording(cassette, lines, "run", results)
    return Recording(cassette, lines, "proxy" if (folder / "proxy.json").is_file() else "cassette")


@dataclass(frozen=True, slots=True)
class Rejudging:
    """How to judge a recording again: each None takes what the run had (a proxy session: every check, not strict)."""

    checks: tuple[str, ...] | None = None
    exclude_checks: tuple[str, ...] | None = None
    strict: bool | None = None
    baseline: Baseline | None = None
    """`--baseline`: its known findings do not fail the recheck, as in a run."""


@dataclass(frozen=True, slots=True)
class Rechecked:
    """A recording judged again: the result, like a run's, and the cassette of what was judged (the same lines, in
    today's format)."""

    result: RunResult
    cassette: str

    def lines(self) -> list[str]:
        """What `kimi-conformance recheck` prints before the verdict: what was judged, and the comparison."""
        about = self.result.recheck or {}
        skipped = about.get("not_judged", {})
        lines = [
            f"rechecked {about.get('of')} ({about.get('recorded')}"
            + (f" {about['run_id']} against {about['target']}" if about.get("run_id") else "")
            + f"): {about.get('judged')} exchange(s) judged again, offline; not judged: "
            f"{skipped.get('unjudged_by_the_run', 0)} the run did not judge either (polls, retried 429s, auth probes), "
            f"{skipped.get('body_cut_in_the_cassette', 0)} whose body the cassette cut"
        ]
        compared = about.get("compared")
        if compared is not None:
            lines.append(
                f"against the run's findings: {compared['same']} found again, {len(compared['new'])} new, "
                f"{len(compared['gone'])} gone"
            )
            lines += [f"  new:  {entry}" for entry in compared["new"][:20]]
            lines += [f"  gone: {entry}" for entry in compared["gone"][:20]]
        return lines


def recheck(recording: Recording, how: Rejudging = Rejudging()) -> Rechecked:
    """Judge every line the run judged again, as the run judged it; no request is sent."""
    ran = recording.settings
    aliases = Settings(model_family=tuple(_strings(ran.get("model_family")))).aliases()
    checks = how.checks if how.checks is not None else _known(ran.get("checks"))
    excluded = how.exclude_checks if how.exclude_checks is not None else _known(ran.get("exclude_checks"))
    strict = how.strict if how.strict is not None else ran.get("strict") is True
    session = ConformanceSession(CheckContext(aliases=aliases), select(checks, excluded), strict)
    started = time.time()
    unjudged = cut = 0
    for line in recording.lines:
        if line.get("judged") is False:
            unjudged += 1
            continue
        exchange = exchange_of(line)
        if not body_complete(line, exchange):
            cut += 1
            continue
        before = len(session.outcomes)
        only = set(_strings(line.get("only"))) if "only" in line else None
        session.check(exchange, str(line.get("test", "")), only)
        _as_attempt(session, before, line)
    judged = len(recording.lines) - unjudged - cut
    result = RunResult(
        run_id=f"recheck-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}",
        target=f"recheck of {recording.cassette}",
        settings={
            "recheck_of": str(recording.cassette),
            "recorded": recording.kind,
            "checks": list(checks),
            "exclude_checks": list(excluded),
            "strict": strict,
            "model_family": list(_strings(ran.get("model_family"))),
        },
        outcomes=session.outcomes,
        started_at=started,
        finished_at=time.time(),
        strict=strict,
        recorded={
            "exchanges": len(recording.lines),
            "unjudged": unjudged,
            "unsent": sum(1 for line in recording.lines if line.get("sent") is False),
        },
        models=recording.results.get("models") if isinstance(recording.results.get("models"), dict) else None,
        baseline=how.baseline,
    )
    result.recheck = {
        "of": str(recording.cassette),
        "recorded": recording.kind,
        "run_id": recording.results.get("run_id"),
        "target": recording.results.get("target"),
        "judged": judged,
        "not_judged": {"unjudged_by_the_run": unjudged, "body_cut_in_the_cassette": cut},
        "compared": compare_findings(recording.results.get("findings"), [f.as_json() for f in result.findings]),
    }
    cassette = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in session.cassette)
    return Rechecked(result, cassette)


def _as_attempt(session: ConformanceSession, before: int, line: dict[str, Any]) -> None:
    """The outcomes just recorded as the attempt the line was (`--attempts`): a retried one's findings are info."""
    attempt = line.get("attempt")
    if not (isinstance(attempt, list) and len(attempt) == 2 and all(isinstance(n, int) for n in attempt)):
        return
    number, attempts = attempt
    outcomes = session.outcomes[before:]
    if line.get("retried") is True:
        session.outcomes[before:] = [o.retried(number, attempts) for o in outcomes]
    else:
        session.outcomes[before:] = [dataclasses.replace(o, attempt=number) for o in outcomes]


FINDING_KEY = ("code", "operation", "message", "request", "test")
"""What makes two findings the same one, for the comparison with the run."""


def compare_findings(ran: Any, now: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The findings found again, new and gone against the run's results.json findings (None: no run to compare
    with); each new or gone one as `CODE operation: first line of its message`."""
    if not isinstance(ran, list):
        return None

    def key(finding: Any) -> tuple[str, ...]:
        return tuple(str(finding.get(name, "")) for name in FINDING_KEY) if isinstance(finding, dict) else ()

    before, after = {key(f): f for f in ran}, {key(f): f for f in now}

    def brief(found: Iterable[tuple[str, ...]]) -> list[str]:
        return sorted(f"{k[0]} {k[1]}: {k[2].partition(chr(10))[0][:160]}" for k in found)

    return {
        "same": len(before.keys() & after.keys()),
        "new": brief(after.keys() - before.keys()),
        "gone": brief(before.keys() - after.keys()),
    }


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _known(value: Any) -> tuple[str, ...]:
    """The run's --checks or --exclude-checks entries that name checks today's registry still has."""
    by_name = {check.name for check in CHECKS.values()}
    entries = [part.strip() for item in _strings(value) for part in item.split(",") if part.strip()]
    return tuple(entry for entry in entries if entry.upper() in CHECKS or entry in by_name)
