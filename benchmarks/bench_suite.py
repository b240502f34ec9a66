"""Our conformance suite next to schemathesis's own CLI, against one reference mock, measured in the same run.

One mock is started in this process (`serve_in_thread`, every model the contract knows, so that schemathesis's
draws of a retired model id are served too) and both tools run as child processes against it, one after the other,
each timed from launch to exit (start-up, collection and report writing included):

- ours: `python -m kimi_conformance run --target <mock>/v1 --api-key-env KIMI_BENCH_KEY --profile P [-n W]
  --model M ...`, with today's lineup as `--model` (the default suite: what `kimi-conformance run` exercises on the
  embedded mock; `--lineup all` for every model the contract knows); the contract suite runs schemathesis's coverage
  phase too; the checks executed are `summary.outcomes` of its results.json (passed + failed + not applicable);
- schemathesis: `schemathesis run` on the same contract (all 13 operations), default checks, phases
  examples,coverage,fuzzing, `--max-examples N` (default 20, the examples per operation and mode of
  `--profile standard`), with the cross-field filter hooks and the config file of tests/contract/; the checks
  executed are the check results in its NDJSON report.

Either tool exiting non-zero fails the benchmark: on the conformant mock that means it found something, or broke.
See benchmarks/README.md.

    python benchmarks/bench_suite.py                  # serial suite, --max-examples 20, --profile standard
    python benchmarks/bench_suite.py --workers 2      # the suite on 2 pytest-xdist workers
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis

from kimi_conformance import contract
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.profiles import PROFILES
from kimi_conformance.rules import LINEUPS, in_lineup, load_rules

ROOT = Path(__file__).resolve().parents[1]
KEY_ENV = "KIMI_BENCH_KEY"
HOOKS = "tests.contract.schemathesis_hooks"
SCHEMATHESIS_CONFIG = ROOT / "tests" / "contract" / "schemathesis.toml"
PHASES = "examples,coverage,fuzzing"
OUTCOMES = ("passed", "failed", "not_applicable")
TIMEOUT_S = 3600


@dataclass
class Measurement:
    """One tool's run: wall time, checks executed, and what went wrong if it did."""

    tool: str
    wall_s: float
    checks: int | None
    details: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def checks_per_s(self) -> float | None:
        return None if self.checks is None or self.wall_s <= 0 else self.checks / self.wall_s


def tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def timed(command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> tuple[int, float]:
    """Run `command` to completion with its output in `log`; its exit code and wall time in seconds."""
    with log.open("wb") as out:
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return -1, time.perf_counter() - start
        return done.returncode, time.perf_counter() - start


# ---------------------------------------------------------------------------------------------------- our suite


def lineup_models(lineup: str) -> list[str]:
    """The model ids a deployment with this lineup serves (`current`: today's six, what the default suite runs)."""
    return [model.id for model in load_rules().models.values() if in_lineup(model, lineup)]


def run_ours(api_base: str, profile: str, workers: int, work: Path, lineup: str = "current") -> Measurement:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--target", api_base, "--api-key-env", KEY_ENV]
    command += ["--profile", profile, "--report-dir", str(work / "reports"), "--quiet"]
    for model in lineup_models(lineup):
        command += ["--model", model]
    if workers:
        command += ["-n", str(workers)]
    log = work / "ours.log"
    # Run from an empty folder, so that no kimi-conformance.toml or pyproject.toml changes the settings.
    returncode, wall = timed(command, cwd=work, env={**os.environ, KEY_ENV: DEFAULT_API_KEY}, log=log)
    result = Measurement("kimi-conformance", wall, None)
    results_path = work / "reports" / "latest" / "results.json"
    if results_path.exists():
        results = json.loads(results_path.read_text())
        summary = results["summary"]
        result.checks = summary["outcomes"]
        exchanges = next((sum(c[k] for k in OUTCOMES) for c in results["checks"] if c["code"] == "HTTP001"), None)
        tests = ", ".join(f"{n} {state}" for state, n in summary.get("tests", {}).items()) or "none"
        result.details += [
            f"tests: {tests}; workers: {workers or 'serial'}; {len(lineup_models(lineup))} models ({lineup}); "
            f"profile {profile} "
            f"({PROFILES[profile].contract.max_examples} examples per operation and mode, hypothesis phases "
            f"{'+'.join(phase.name for phase in PROFILES[profile].contract.phases)}, coverage phase "
            f"{PROFILES[profile].coverage} cases per operation); run's own duration_s "
            f"{results['duration_s']}",
            f"check outcomes: {summary['passed']} passed, {summary['failed']} failed, "
            f"{summary['not_applicable']} not applicable, over {len(results['checks'])} check codes and "
            f"{exchanges} HTTP exchanges (HTTP001 outcomes); verdict {results['verdict']}",
        ]
        if results.get("findings"):
            codes = Counter(finding["code"] for finding in results["findings"])
            result.details.append("findings: " + ", ".join(f"{code} x{n}" for code, n in sorted(codes.items())))
    if returncode != 0 or result.checks is None:
        result.error = (
            f"`kimi-conformance run` exited {returncode} on the conformant mock (findings, or it broke); "
            f"results.json {'read' if result.checks is not None else 'missing'}.\n{tail(log)}"
        )
    return result


# ---------------------------------------------------------------------------------------------------- schemathesis


def schemathesis_cli() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    if found is None:
        raise SystemExit("schemathesis is not installed next to this Python (pip install -e '.[test]')")
    return found


def count_ndjson(path: Path) -> dict[str, Any]:
    """Check results, test cases and operations from schemathesis's NDJSON event stream.

    Each line is one event, `{"<EventType>": {...}}`. Check results travel in `ScenarioFinished` events (one per
    operation and phase, and per suite of the phase): `recorder.cases` maps each generated test case id to
    the request, and `recorder.checks` maps a case id to the list of checks run on its response, one entry
    `{"name", "status"}` per check with status `success`, `failure` or `error`. We count every entry of every
    such list, whatever its status; that is one check executed. Checks that decline a case (return True, e.g.
    a check that only applies to another phase) leave no entry; checks that ran and found nothing to judge are
    recorded as `success`. Test cases are counted from `recorder.cases` (which matches the "N generated" line of
    the CLI's summary), operations from `LoadingFinished`'s statistic.
    """
    checks: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    cases_by_phase: Counter[str] = Counter()
    tested: set[str] = set()
    operations: dict[str, int] = {}
    with path.open() as lines:
        for line in lines:
            event = json.loads(line)
            if "LoadingFinished" in event:
                operations = event["LoadingFinished"]["statistic"]["operations"]
            if "ScenarioFinished" not in event:
                continue
            scenario = event["ScenarioFinished"]
            recorder = scenario.get("recorder", {})
            cases = recorder.get("cases", {})
            cases_by_phase[scenario["phase"]] += len(cases)
            if cases:
                tested.add(recorder["label"])
            for results in recorder.get("checks", {}).values():
                for check in results:
                    checks[check["name"]] += 1
                    statuses[check["status"]] += 1
    return {
        "checks": sum(checks.values()),
        "statuses": statuses,
        "names": len(checks),
        "cases_by_phase": cases_by_phase,
        "tested": len(tested),
        "operations": operations,
    }


def run_schemathesis(root_url: str, max_examples: int, work: Path) -> Measurement:
    ndjson = work / "schemathesis.ndjson"
    command = [
        schemathesis_cli(),
        "--config-file",
        str(SCHEMATHESIS_CONFIG),
        "run",
        str(contract.contract_path()),
        "--url",
        root_url,
        "--header",
        f"Authorization: Bearer {DEFAULT_API_KEY}",
        "--mode",
        "all",  # positive and negative, as our suite generates
        "--phases",
        PHASES,
        "--max-examples",
        str(max_examples),
        "--generation-deterministic",  # as our suite's hypothesis settings (derandomize=True)
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(ndjson),
    ]
    # From an empty folder, so its .hypothesis/ example database and caches start empty and stay out of the repo.
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # the hooks module
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": pythonpath}
    log = work / "schemathesis.log"
    returncode, wall = timed(command, cwd=work, env=env, log=log)
    result = Measurement("schemathesis", wall, None)
    operations: dict[str, int] = {}
    if ndjson.exists():
        counted = count_ndjson(ndjson)
        result.checks = counted["checks"]
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(counted["statuses"].items()))
        phases = ", ".join(f"{counted['cases_by_phase'][p]} {p}" for p in PHASES.split(","))
        operations = counted["operations"]
        result.details += [
            f"test cases generated: {sum(counted['cases_by_phase'].values())} ({phases}); operations tested "
            f"{counted['tested']} of {operations.get('selected')} selected / {operations.get('total')} in the contract",
            f"check results: {statuses or 'none'}, over {counted['names']} check names; "
            f"--max-examples {max_examples}, 1 worker",
        ]
    if returncode != 0 or result.checks is None:
        result.error = (
            f"`schemathesis run` exited {returncode} on the conformant mock (failures, or it broke); "
            f"NDJSON report {'read' if result.checks is not None else 'missing'}.\n{tail(log)}"
        )
    elif operations.get("selected") != len(contract.operations()):
        result.error = f"schemathesis selected {operations} operations, not all {len(contract.operations())}"
    return result


# ---------------------------------------------------------------------------------------------------- report

OURS_ONLY = (
    "semantics of scenario-built requests per model (usage arithmetic, finish_reason, n choices, max_tokens, stop "
    "sequences, tool_choice, JSON mode, tool arguments, reasoning off, prompt-token estimate), streaming semantics "
    "(SSE framing, [DONE] last, chunk identity, delta order, tool-call fragments, one finish_reason, where usage "
    "comes), the error envelope, auth refused on every operation, real file and batch lifecycles (upload, read, "
    "content, delete then 404; batch echo, paging, cancel; schemathesis without its stateful phase only guesses "
    "ids, answered 404), models vs contract; findings under check codes with replayable requests"
)
SCHEMATHESIS_ONLY = (
    "its examples phase (the contract's examples) and every case of its coverage phase: ours takes the coverage "
    "phase's cases one kind at a time up to the profile's cap per operation (boundary values per constraint, "
    "missing required fields and headers, unsupported methods), and runs them with all its checks"
)


def ratio(ours: float | None, theirs: float | None) -> str:
    return "n/a" if ours is None or not theirs else f"{ours / theirs:.2f}x"


def print_table(ours: Measurement, theirs: Measurement) -> None:
    def number(value: float | None, spec: str) -> str:
        return "n/a" if value is None else format(value, spec)

    header = f"{'tool':<20} {'wall time s':>12} {'checks executed':>16} {'checks/s':>10}"
    print(header)
    print("-" * len(header))
    for m in (ours, theirs):
        print(f"{m.tool:<20} {m.wall_s:>12.2f} {number(m.checks, ',d'):>16} {number(m.checks_per_s, ',.1f'):>10}")
    print(
        f"{'ours/schemathesis':<20} {ratio(ours.wall_s, theirs.wall_s):>12} {ratio(ours.checks, theirs.checks):>16} "
        f"{ratio(ours.checks_per_s, theirs.checks_per_s):>10}"
    )
    print()
    for m in (ours, theirs):
        for line in m.details:
            print(f"{m.tool}: {line}")
    print()
    print(f"only kimi-conformance: {OURS_ONLY}")
    print(f"only schemathesis: {SCHEMATHESIS_ONLY}")


def suite_pair(
    profile: str = "standard", workers: int = 0, max_examples: int | None = None, lineup: str = "current"
) -> tuple[Measurement, Measurement]:
    """Ours, then schemathesis, against one mock (every model the contract knows), in this run."""
    examples = max_examples or PROFILES["standard"].contract.max_examples
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp, serve_in_thread(MockConfig(lineup="all")) as server:
        # The mock logs each malformed request that schemathesis sends on purpose (raw CR in a multipart header,
        # NUL bytes...) and answers it all the same: keep those warnings off the output. After uvicorn's own setup.
        for name in ("uvicorn.error", "python_multipart"):
            logging.getLogger(name).setLevel(logging.ERROR)
        work = Path(tmp)
        (work / "ours").mkdir()
        (work / "schemathesis").mkdir()
        ours = run_ours(server.api_base, profile, workers, work / "ours", lineup)
        theirs = run_schemathesis(server.base_url, examples, work / "schemathesis")
    return ours, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=0, help="our suite's pytest-xdist -n (default 0: serial)")
    parser.add_argument(
        "--max-examples",
        type=int,
        default=PROFILES["standard"].contract.max_examples,
        help="schemathesis --max-examples (default 20, as our --profile standard)",
    )
    parser.add_argument("--profile", choices=tuple(PROFILES), default="standard", help="our suite's --profile")
    parser.add_argument(
        "--lineup", choices=LINEUPS, default="current", help="our suite's models: today's (default) or all"
    )
    args = parser.parse_args()
    if args.workers < 0 or args.max_examples < 1:
        parser.error("--workers must be >= 0 and --max-examples >= 1")

    print(
        f"Python {platform.python_version()}, schemathesis {schemathesis.__version__}, {os.cpu_count()} CPUs; "
        f"one mock in this process, both tools as child processes, one after the other"
    )
    print("running kimi-conformance, then schemathesis ...", flush=True)
    ours, theirs = suite_pair(args.profile, args.workers, args.max_examples, args.lineup)
    print()
    print_table(ours, theirs)
    failed = [m for m in (ours, theirs) if m.error]
    for m in failed:
        print(f"\nBENCHMARK FAILED: {m.tool}: {m.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
