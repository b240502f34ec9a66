"""The pytest plugin (entry point `pytest11`): target options, fixtures for the suites, and the reports.

Precedence of settings: command-line option > config file (`kimi-conformance.toml` or
`[tool.kimi-conformance]`) > defaults. With pytest-xdist each worker starts its own embedded mock, records its
outcomes to `reports/<run-id>/parts/`, and the controller merges them into the reports.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.budget import BudgetReached, Guard, QuotaExceeded, Spending
from kimi_conformance.checks import CHECKS, CheckContext, Outcome, select
from kimi_conformance.errors import KimiConformanceError
from kimi_conformance.exchange import Exchange
from kimi_conformance.mock import MockConfig
from kimi_conformance.pricing import load_prices
from kimi_conformance.report import RunResult, write_reports
from kimi_conformance.rules import ModelInfo
from kimi_conformance.session import ConformanceSession
from kimi_conformance.settings import Settings, read_config_file, run_options
from kimi_conformance.target import Target, open_target, resolve_models
from kimi_conformance.transport import TargetClient

SETTINGS = pytest.StashKey[Settings]()
RUN_ID = pytest.StashKey[str]()
STARTED = pytest.StashKey[float]()
SESSION = pytest.StashKey[ConformanceSession]()
TEST_COUNTS = pytest.StashKey[Counter[str]]()
MODELS = pytest.StashKey[list[str]]()
GUARD = pytest.StashKey[Guard]()
COLLECTED = pytest.StashKey[list[str]]()
REPORTED = pytest.StashKey[set[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The run options of `settings.run_options()`, as pytest options (`kimi-conformance run` takes the same)."""
    group = parser.getgroup("kimi-conformance", "Kimi API conformance")
    for option in run_options():
        extra: dict[str, Any] = {"metavar": option.metavar} if option.metavar else {}
        if option.kind is bool:
            group.addoption(option.pytest_flag, action="store_true", default=None, dest=option.dest, help=option.help)
            continue
        if option.choices:
            extra["choices"] = option.choices
        group.addoption(
            option.pytest_flag,
            action="append" if option.repeatable else "store",
            type=option.kind,
            default=None,
            dest=option.dest,
            help=option.help_with_default,
            **extra,
        )


def _settings(config: pytest.Config) -> Settings:
    options = {option.name: config.getoption(option.dest) for option in run_options()}
    return Settings().merged(read_config_file(Path(config.invocation_params.dir))).merged(options)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _worker_count(config: pytest.Config) -> int:
    """How many processes send requests: the xdist workers, or this one."""
    if _is_worker(config):
        return int(config.workerinput.get("workercount", 1))  # type: ignore[attr-defined]
    numprocesses = config.getoption("numprocesses", None) if config.pluginmanager.hasplugin("xdist") else None
    if isinstance(numprocesses, int) and numprocesses > 0:
        return numprocesses
    return os.cpu_count() or 1 if numprocesses == "auto" else 1


def _guard(settings: Settings, workers: int) -> Guard:
    """This process's share of the run's budget and rate."""

    def share(total: int | None) -> int | None:
        return None if total is None else max(1, total // workers)

    return Guard(
        max_requests=share(settings.max_requests),
        max_tokens=share(settings.max_tokens),
        rpm=settings.rpm / workers if settings.rpm else None,
        max_retries=settings.max_retries,
        prices=load_prices(settings.price_table),
    )


def run_guard(config: pytest.Config) -> Guard:
    """The budget, pace and retry policy of this process (suites that send requests themselves use it)."""
    return config.stash[GUARD]


def _stop_early(item: pytest.Item, exc: BudgetReached | QuotaExceeded) -> None:
    """Stop the run where it is: the budget is spent (the test is not run) or the account is out of quota (the
    test fails, and so does the run: nothing more can be judged)."""
    guard = item.config.stash[GUARD]
    guard.reached = guard.reached or str(exc)
    guard.quota_exceeded = guard.quota_exceeded or isinstance(exc, QuotaExceeded)
    item.session.shouldstop = str(exc)
    if isinstance(exc, BudgetReached):
        pytest.skip(f"not run: {exc}")
    pytest.fail(f"stopped: {exc}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    stop: BudgetReached | QuotaExceeded
    try:
        return (yield)
    except (BudgetReached, QuotaExceeded) as exc:
        stop = exc
    _stop_early(item, stop)
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a test of the conformance suite (uses the target)")
    try:
        config.stash[SETTINGS] = _settings(config)
        settings = config.stash[SETTINGS]
        select(settings.checks, settings.exclude_checks)
        MockConfig(faults=frozenset(settings.mock_faults))  # unknown fault names are a usage error
    except KimiConformanceError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if not settings.is_mock and settings.api_key() is None:
        raise pytest.UsageError(f"--target {settings.target} needs an API key in ${settings.api_key_env}")
    workers = _worker_count(config)
    if settings.concurrency is not None and workers > settings.concurrency:
        raise pytest.UsageError(
            f"--concurrency {settings.concurrency} allows {settings.concurrency} xdist worker(s) at most, not {workers}"
        )
    try:
        config.stash[GUARD] = _guard(settings, workers)
    except KimiConformanceError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[COLLECTED] = []
    config.stash[REPORTED] = set()
    if _is_worker(config):
        config.stash[RUN_ID] = config.workerinput["kimi_run_id"]  # type: ignore[attr-defined]
    else:
        config.stash[RUN_ID] = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    config.stash[STARTED] = time.time()
    config.stash[TEST_COUNTS] = Counter()
    counter = _TestCounter(config.stash[TEST_COUNTS], config.stash[COLLECTED], config.stash[REPORTED])
    config.pluginmanager.register(counter, "kimi-conformance-counter")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(config), "kimi-conformance-xdist")


class _XdistHooks:
    """Hands the run id to every worker, so all of them write into one report folder."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["kimi_run_id"] = self.config.stash[RUN_ID]

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.config.stash[COLLECTED]:
            self.config.stash[COLLECTED][:] = list(ids)


def target_models(config: pytest.Config) -> list[str]:
    """The model ids the run exercises (`--model`, else what the target lists that the contract knows), once."""
    if MODELS not in config.stash:
        config.stash[MODELS] = resolve_models(config.stash[SETTINGS])
    return config.stash[MODELS]


def target_model_info(config: pytest.Config, target_model: str) -> ModelInfo | None:
    """The rules table's model for a model id as the target names it."""
    return _context(config).model(target_model)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests taking `target_model` run once per model of the target (a `models(predicate)` mark filters them)."""
    if "target_model" not in metafunc.fixturenames:
        return
    config = metafunc.config
    models = target_models(config)
    marks = metafunc.definition.get_closest_marker("models")
    if marks is not None:
        models = [m for m in models if marks.args[0](_context(config).model(m))]
    skipped = pytest.param(None, marks=pytest.mark.skip(reason="the target serves no model this test applies to"))
    metafunc.parametrize("target_model", models or [skipped])


UNUSABLE_ANSWER = (KeyError, IndexError, TypeError, ValueError, AttributeError)
"""What suite code raises when it reads an answer that is not what the contract promises (not JSON, no `id`)."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A suite test that trips over an unusable answer of the target fails with one line saying so, not with a
    traceback into the suite's code (the checks have already recorded what was wrong with the answer)."""
    stop: BudgetReached | QuotaExceeded | str
    try:
        return (yield)
    except (BudgetReached, QuotaExceeded) as exc:
        stop = exc
    except UNUSABLE_ANSWER as exc:
        if "target_client" not in getattr(item, "fixturenames", ()):
            raise
        stop = f"target error: the answer was unusable for this test ({type(exc).__name__}: {exc})"
    if isinstance(stop, str):  # outside the `except`: no "during handling of the above exception"
        pytest.fail(stop, pytrace=False)
    _stop_early(item, stop)
    return None


def _context(config: pytest.Config) -> CheckContext:
    return CheckContext(aliases=config.stash[SETTINGS].aliases())


@pytest.fixture(scope="session")
def kimi_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings (options over config file over defaults)."""
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def target(
    kimi_settings: Settings, conformance_session: ConformanceSession, request: pytest.FixtureRequest
) -> Iterator[Target]:
    """The target: the embedded mock on a free loopback port (one per xdist worker) or the given URL.

    A URL target that does not answer, or does not finish its answer (silence, a body without end, a reset, a
    body over the size limit), is recorded once as an HTTP001 or HTTP005 finding; the first test fails with that
    reason and the run stops there (no test waits on a dead target; the report is still written)."""
    with open_target(kimi_settings) as opened:
        if not kimi_settings.is_mock:
            with _client(opened, request.config) as client:
                probe = client.request("listModels", "GET", "/models")
            problem = probe.transport_error or probe.stream_error
            if problem is not None:
                conformance_session.check(probe, "target reachability", {"HTTP001", "HTTP005"})
                reason = f"the target {opened.label} does not answer usably: {problem}"
                request.session.shouldfail = reason
                pytest.fail(reason, pytrace=False)
        yield opened


@pytest.fixture(scope="session")
def target_client(target: Target, kimi_settings: Settings, pytestconfig: pytest.Config) -> Iterator[TargetClient]:
    """An HTTP client of the target within the run's budget and pace; every request becomes an `Exchange`."""
    with _client(target, pytestconfig) as client:
        yield client


def _client(target: Target, config: pytest.Config) -> TargetClient:
    """A client of the target with the run's timeouts, budget and pace."""
    settings = config.stash[SETTINGS]
    return TargetClient(
        target.base_url,
        target.api_key,
        timeout=settings.request_timeout,
        stream_timeout=settings.stream_timeout,
        stream_idle_timeout=settings.stream_idle_timeout,
        guard=config.stash[GUARD],
    )


@pytest.fixture(scope="session")
def conformance_session(pytestconfig: pytest.Config, kimi_settings: Settings) -> ConformanceSession:
    """The run's recorder of check outcomes."""
    if SESSION not in pytestconfig.stash:
        pytestconfig.stash[SESSION] = ConformanceSession(
            context=_context(pytestconfig),
            selected=select(kimi_settings.checks, kimi_settings.exclude_checks),
            strict=kimi_settings.strict,
        )
    return pytestconfig.stash[SESSION]


Verify = Callable[..., None]


@pytest.fixture
def verify(conformance_session: ConformanceSession, request: pytest.FixtureRequest, kimi_settings: Settings) -> Verify:
    """`verify(exchange, only={"ERR001"}, resend=...)`: run the checks, record them, and fail the test on blocking
    findings. With `resend` (a function sending the same request again) and `--attempts K`, a request failing only
    model-behaviour checks is retried up to K times in all (pass@k)."""

    def run(exchange: Exchange, only: set[str] | None = None, resend: Callable[[], Exchange] | None = None) -> None:
        __tracebackhide__ = True
        judgement = conformance_session.check_attempts(
            exchange, resend, kimi_settings.attempts, request.node.nodeid, only
        )
        if judgement:
            pytest.fail(judgement.render(), pytrace=False)

    return run


class _TestCounter:
    """Counts test outcomes and remembers which tests ran (xdist forwards workers' reports to the controller)."""

    def __init__(self, counts: Counter[str], collected: list[str], reported: set[str]) -> None:
        self.counts = counts
        self.collected = collected
        self.reported = reported

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected[:] = [item.nodeid for item in items]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.counts[report.outcome] += 1
            if not (report.skipped and "not run: " in str(report.longrepr)):
                self.reported.add(report.nodeid)


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def _report_root(config: pytest.Config) -> Path:
    """`--report-dir`, relative to where pytest was started."""
    return Path(config.invocation_params.dir) / config.stash[SETTINGS].report_dir


def _parts_dir(config: pytest.Config) -> Path:
    return _report_root(config) / config.stash[RUN_ID] / "parts"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    recorded = config.stash.get(SESSION, None)
    outcomes = list(recorded.outcomes) if recorded else []
    guard = config.stash[GUARD]
    if _is_worker(config):
        parts = _parts_dir(config)
        parts.mkdir(parents=True, exist_ok=True)
        worker = config.workerinput["workerid"]  # type: ignore[attr-defined]
        spent = {"spending": guard.spent.as_json(), "reached": guard.reached, "quota": guard.quota_exceeded}
        (parts / f"{worker}.spending.json").write_text(json.dumps(spent), "utf-8")
        if outcomes:
            (parts / f"{worker}.json").write_text(json.dumps([o.as_json() for o in outcomes]), "utf-8")
        if recorded and recorded.cassette:
            (parts / f"{worker}.cassette.jsonl").write_text(_jsonl(recorded.cassette), "utf-8")
        return
    spending, reached, quota = Spending(), guard.reached, guard.quota_exceeded
    cassette = _jsonl(recorded.cassette) if recorded else ""
    spending.add(guard.spent.as_json())
    parts = _parts_dir(config)
    if parts.is_dir():
        for part in sorted(parts.glob("*.spending.json")):
            data = json.loads(part.read_text("utf-8"))
            spending.add(data["spending"])
            reached = reached or data["reached"]
            quota = quota or data["quota"]
        for part in sorted(parts.glob("*.cassette.jsonl")):
            cassette += part.read_text("utf-8")
        for part in sorted(parts.glob("gw*[0-9].json")):
            outcomes += [Outcome.from_json(item) for item in json.loads(part.read_text("utf-8"))]
        shutil.rmtree(parts)
    if not outcomes and not reached:
        return
    settings = config.stash[SETTINGS]
    result = RunResult(
        run_id=config.stash[RUN_ID],
        target=settings.target,
        settings={
            "profile": settings.profile,
            "models": list(settings.models),
            "strict": settings.strict,
            "checks": list(settings.checks),
            "exclude_checks": list(settings.exclude_checks),
            "mock_faults": list(settings.mock_faults),
            "model_family": list(settings.model_family),
        },
        outcomes=outcomes,
        started_at=config.stash[STARTED],
        finished_at=time.time(),
        strict=settings.strict,
        tests=dict(config.stash[TEST_COUNTS].items()),
        spending=spending.as_json(),
        budget_reached=reached,
        not_run=[test for test in config.stash[COLLECTED] if test not in config.stash[REPORTED]] if reached else [],
    )
    folder = write_reports(result, _report_root(config))
    (folder / "cassette.jsonl").write_text(cassette, "utf-8")
    if quota and result.exit_code != 3:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the account is out of quota: nothing more to judge
    elif result.exit_code or session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode(result.exit_code)  # 3 (INTERNAL_ERROR): a check crashed
    config.stash[_RESULT] = (result, folder)


_RESULT = pytest.StashKey[tuple[RunResult, Path]]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    found = config.stash.get(_RESULT, None)
    if found is None:
        return
    result, folder = found
    data = result.as_json()
    terminalreporter.section("kimi-conformance")
    for summary in result.per_check():
        if summary.findings:
            severities = sorted({f.severity.value for f in summary.findings})
            title = CHECKS[summary.code].title if summary.code in CHECKS else summary.code
            terminalreporter.write_line(
                f"{summary.code:8} {title} ({'/'.join(severities)}): {len(summary.findings)} finding(s)"
            )
    for crash in result.crashes[:20]:
        terminalreporter.write_line(crash.crash_line())
    findings = data["summary"]["findings"]
    if result.spending:
        terminalreporter.write_line(f"spent: {result.spending_line()}")
    terminalreporter.write_line(
        f"verdict {data['verdict'].upper()} ({result.verdict_reason}): {data['summary']['outcomes']} check outcomes, "
        f"{findings['error']} error / {findings['warning']} warning / {findings['info']} info findings; "
        f"reports in {folder}"
    )
