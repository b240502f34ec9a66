"""The pytest plugin (entry point `pytest11`): target options, fixtures for the suites, and the reports.

Precedence of settings: command-line option > config file (`kimi-conformance.toml` or
`[tool.kimi-conformance]`) > defaults. With pytest-xdist each worker starts its own embedded mock, records its
outcomes to `reports/<run-id>/parts/`, and the controller merges them into the reports.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.checks import CHECKS, CheckContext, Outcome, select
from kimi_conformance.errors import KimiConformanceError
from kimi_conformance.exchange import Exchange
from kimi_conformance.mock import MockConfig
from kimi_conformance.report import RunResult, write_reports
from kimi_conformance.rules import ModelInfo
from kimi_conformance.session import ConformanceSession
from kimi_conformance.settings import PROFILES, Settings, read_config_file
from kimi_conformance.target import Target, open_target, resolve_models
from kimi_conformance.transport import TargetClient

SETTINGS = pytest.StashKey[Settings]()
RUN_ID = pytest.StashKey[str]()
STARTED = pytest.StashKey[float]()
SESSION = pytest.StashKey[ConformanceSession]()
TEST_COUNTS = pytest.StashKey[Counter[str]]()
MODELS = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kimi-conformance", "Kimi API conformance")
    group.addoption("--target", default=None, help="`mock` (default: the embedded reference mock) or a base URL")
    group.addoption("--api-key-env", default=None, metavar="NAME", help="Variable holding the API key")
    group.addoption("--model", action="append", default=None, dest="models", help="Model to exercise (repeatable)")
    group.addoption(
        "--model-family",
        action="append",
        default=None,
        metavar="ALIAS=MODEL",
        help="The target's id for a model the contract knows (repeatable)",
    )
    group.addoption("--profile", default=None, choices=PROFILES, help="How hard to generate (default: standard)")
    group.addoption("--checks", action="append", default=None, help="Only these checks (codes or names)")
    group.addoption("--exclude-checks", action="append", default=None, help="Skip these checks (codes or names)")
    group.addoption("--request-timeout", type=float, default=None, help="Seconds per request (default 30)")
    group.addoption("--stream-timeout", type=float, default=None, help="Seconds a whole body may take (default 120)")
    group.addoption(
        "--stream-idle-timeout",
        type=float,
        default=None,
        help="Seconds of silence allowed inside a body (default: the request timeout)",
    )
    group.addoption(
        "--strict-conformance",
        action="store_true",
        default=None,
        dest="kimi_strict",
        help="Warnings fail the run too (`kimi-conformance run --strict`)",
    )
    group.addoption("--report-dir", default=None, help="Where runs write reports (default: reports)")
    group.addoption(
        "--mock-fault",
        action="append",
        default=None,
        dest="mock_faults",
        metavar="NAME",
        help="Switch on a named fault in the embedded mock (repeatable)",
    )


def _settings(config: pytest.Config) -> Settings:
    options = {
        name: config.getoption(name)
        for name in (
            "target",
            "api_key_env",
            "models",
            "model_family",
            "profile",
            "checks",
            "exclude_checks",
            "request_timeout",
            "stream_timeout",
            "stream_idle_timeout",
            "report_dir",
            "mock_faults",
        )
    }
    options["strict"] = config.getoption("kimi_strict")
    return Settings().merged(read_config_file(Path(config.invocation_params.dir))).merged(options)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


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
    if _is_worker(config):
        config.stash[RUN_ID] = config.workerinput["kimi_run_id"]  # type: ignore[attr-defined]
    else:
        config.stash[RUN_ID] = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    config.stash[STARTED] = time.time()
    config.stash[TEST_COUNTS] = Counter()
    config.pluginmanager.register(_TestCounter(config.stash[TEST_COUNTS]), "kimi-conformance-counter")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(config), "kimi-conformance-xdist")


class _XdistHooks:
    """Hands the run id to every worker, so all of them write into one report folder."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["kimi_run_id"] = self.config.stash[RUN_ID]


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
    try:
        return (yield)
    except UNUSABLE_ANSWER as exc:
        if "target_client" not in getattr(item, "fixturenames", ()):
            raise
        pytest.fail(f"target error: the answer was unusable for this test ({type(exc).__name__}: {exc})", pytrace=False)


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
            with TargetClient(
                opened.base_url,
                opened.api_key,
                timeout=kimi_settings.request_timeout,
                stream_timeout=kimi_settings.stream_timeout,
                stream_idle_timeout=kimi_settings.stream_idle_timeout,
            ) as client:
                probe = client.request("listModels", "GET", "/models")
            problem = probe.transport_error or probe.stream_error
            if problem is not None:
                conformance_session.check(probe, "target reachability", {"HTTP001", "HTTP005"})
                reason = f"the target {opened.label} does not answer usably: {problem}"
                request.session.shouldfail = reason
                pytest.fail(reason, pytrace=False)
        yield opened


@pytest.fixture(scope="session")
def target_client(target: Target, kimi_settings: Settings) -> Iterator[TargetClient]:
    """An HTTP client of the target; every request becomes an `Exchange`."""
    with TargetClient(
        target.base_url,
        target.api_key,
        timeout=kimi_settings.request_timeout,
        stream_timeout=kimi_settings.stream_timeout,
        stream_idle_timeout=kimi_settings.stream_idle_timeout,
    ) as client:
        yield client


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
def verify(conformance_session: ConformanceSession, request: pytest.FixtureRequest) -> Verify:
    """`verify(exchange, only={"ERR001"})`: run the checks, record them, and fail the test on blocking findings."""

    def run(exchange: Exchange, only: set[str] | None = None) -> None:
        __tracebackhide__ = True
        findings = conformance_session.check(exchange, request.node.nodeid, only)
        if findings:
            pytest.fail("\n\n".join(f.render() for f in findings), pytrace=False)

    return run


class _TestCounter:
    """Counts test outcomes (xdist forwards workers' reports to the controller)."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.counts[report.outcome] += 1


def _report_root(config: pytest.Config) -> Path:
    """`--report-dir`, relative to where pytest was started."""
    return Path(config.invocation_params.dir) / config.stash[SETTINGS].report_dir


def _parts_dir(config: pytest.Config) -> Path:
    return _report_root(config) / config.stash[RUN_ID] / "parts"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    recorded = config.stash.get(SESSION, None)
    outcomes = list(recorded.outcomes) if recorded else []
    if _is_worker(config):
        if outcomes:
            parts = _parts_dir(config)
            parts.mkdir(parents=True, exist_ok=True)
            worker = config.workerinput["workerid"]  # type: ignore[attr-defined]
            (parts / f"{worker}.json").write_text(json.dumps([o.as_json() for o in outcomes]), "utf-8")
        return
    parts = _parts_dir(config)
    if parts.is_dir():
        for part in sorted(parts.glob("*.json")):
            outcomes += [Outcome.from_json(item) for item in json.loads(part.read_text("utf-8"))]
        shutil.rmtree(parts)
    if not outcomes:
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
    )
    folder = write_reports(result, _report_root(config))
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
    findings = data["summary"]["findings"]
    terminalreporter.write_line(
        f"verdict {data['verdict'].upper()}: {data['summary']['outcomes']} check outcomes, "
        f"{findings['error']} error / {findings['warning']} warning / {findings['info']} info findings; "
        f"reports in {folder}"
    )
