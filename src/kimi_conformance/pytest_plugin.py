"""The pytest plugin (entry point `pytest11`): the run options, the suites' fixtures, and the hooks that hand the
run to `kimi_conformance.runner` (its state, target probe, budget stops and the xdist merge into the reports).

Precedence of settings: command-line option > config file (`kimi-conformance.toml` or
`[tool.kimi-conformance]`) > defaults. With pytest-xdist each worker starts its own embedded mock, records its
outcomes to `reports/<run-id>/parts/`, and the controller merges them into the reports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.budget import BudgetReached, Guard, QuotaExceeded
from kimi_conformance.checks import CHECKS, Status
from kimi_conformance.errors import KimiConformanceError
from kimi_conformance.exchange import Exchange
from kimi_conformance.fidelity import Answer, classify
from kimi_conformance.findings import blocks
from kimi_conformance.ledger import AccountLedger
from kimi_conformance.mock import MockConfig
from kimi_conformance.operations import Surface, groups_of
from kimi_conformance.redaction import redact
from kimi_conformance.report import RunResult, write_reports
from kimi_conformance.report.baseline import Baseline, read_baseline
from kimi_conformance.report.fingerprint import fingerprint
from kimi_conformance.rules import ModelInfo
from kimi_conformance.runner.cleanup import leave_as_found
from kimi_conformance.runner.foreign_contract import load_foreign_contract
from kimi_conformance.runner.interrupt import stop_on_interrupt
from kimi_conformance.runner.merge import RunPart, run_result
from kimi_conformance.runner.plan import Ceiling, Plan, PlanCase, model_param, plan_test
from kimi_conformance.runner.progress import ProgressBoard, Snapshot, snapshot_in, snapshot_properties
from kimi_conformance.runner.session import ConformanceSession
from kimi_conformance.runner.state import RunState, worker_count
from kimi_conformance.runner.target import Target, TargetProbe, client_for, open_target
from kimi_conformance.settings import Settings, read_config_file, run_options
from kimi_conformance.transport import TargetClient

STATE = pytest.StashKey[RunState]()
RESULT = pytest.StashKey[tuple[RunResult, Path]]()
RESTORE_SIGINT = pytest.StashKey[Callable[[], None]]()
BASELINE = pytest.StashKey[Baseline | None]()
FIRST_OUTCOME = pytest.StashKey[int]()
"""Where a test's outcomes start in the session's list (its findings decide whether it failed on known ones only)."""


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
    workercount = config.workerinput.get("workercount", 1) if _is_worker(config) else None  # type: ignore[attr-defined]
    numprocesses = config.getoption("numprocesses", None) if config.pluginmanager.hasplugin("xdist") else None
    return worker_count(numprocesses, workercount)


def run_state(config: pytest.Config) -> RunState:
    """This process's share of the run (settings, budget, recorder, target probe)."""
    return config.stash[STATE]


def run_guard(config: pytest.Config) -> Guard:
    """The budget, pace and retry policy of this process (suites that send requests themselves use it)."""
    return config.stash[STATE].guard


def _stop_early(item: pytest.Item, exc: BudgetReached | QuotaExceeded) -> None:
    """Stop the run where it is: the budget is spent (the test is not run) or the account is out of quota (the
    test fails, and so does the run: nothing more can be judged)."""
    guard = run_guard(item.config)
    guard.reached = guard.reached or str(exc)
    guard.quota_exceeded = guard.quota_exceeded or isinstance(exc, QuotaExceeded)
    item.session.shouldstop = redact(str(exc))
    if isinstance(exc, BudgetReached):
        pytest.skip(f"not run: {redact(str(exc))}")
    pytest.fail(f"stopped: {redact(str(exc))}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    state = run_state(item.config)
    state.session.current_test = item.nodeid  # what its requests are recorded under
    state.guard.test = item.nodeid  # and held to the test's planned ceiling
    item.stash[FIRST_OUTCOME] = len(state.session.outcomes)
    stop: BudgetReached | QuotaExceeded
    try:
        return (yield)
    except (BudgetReached, QuotaExceeded) as exc:
        stop = exc
    _stop_early(item, stop)
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a test of the conformance suite (uses the target)")
    config.addinivalue_line(
        "markers", "ceiling(CEILING, resend=False): the most a test sends (runner/plan.py; `--plan` prints them)"
    )
    config.addinivalue_line(
        "markers", "operations(*GROUPS): the operation groups a test exercises (skipped where one is not offered)"
    )
    try:
        settings = _settings(config)
        where = Path(config.invocation_params.dir)
        config.stash[BASELINE] = (
            read_baseline(where / settings.baseline, settings.baseline) if settings.baseline else None
        )
    except KimiConformanceError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if settings.plan and not _is_worker(config):  # one process collects and plans; nothing is run
        config.option.numprocesses, config.option.dist, config.option.tx = 0, "no", []
    workers = _worker_count(config)
    try:
        MockConfig(faults=frozenset(settings.mock_faults))  # unknown fault names are a usage error
        run_id = config.workerinput["kimi_run_id"] if _is_worker(config) else None  # type: ignore[attr-defined]
        state = RunState.start(settings, workers, run_id)
    except KimiConformanceError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if not settings.is_mock and settings.api_key() is None and not (settings.plan and settings.models):
        raise pytest.UsageError(f"--target {settings.target} needs an API key in ${settings.api_key_env}")
    if settings.concurrency is not None and workers > settings.concurrency:
        raise pytest.UsageError(
            f"--concurrency {settings.concurrency} allows {settings.concurrency} xdist worker(s) at most, not {workers}"
        )
    reports = Path(config.invocation_params.dir) / settings.report_dir
    try:
        reports.mkdir(parents=True, exist_ok=True)
        (reports / f".writable-{os.getpid()}").touch()
        (reports / f".writable-{os.getpid()}").unlink()
    except OSError as exc:
        raise pytest.UsageError(f"--report-dir {settings.report_dir} is not writable: {exc.strerror}") from None
    if _is_worker(config) and "kimi_probe" in config.workerinput:  # type: ignore[attr-defined]
        state.probe = TargetProbe.from_json(config.workerinput["kimi_probe"])  # type: ignore[attr-defined]
    config.stash[STATE] = state
    config.pluginmanager.register(_TestCounter(state), "kimi-conformance-counter")
    if not settings.quiet and not settings.plan and not _is_worker(config):
        config.pluginmanager.register(_ProgressHooks(state, ProgressBoard(sys.stderr)), "kimi-conformance-progress")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(state), "kimi-conformance-xdist")


class _XdistHooks:
    """Hands the run id and the target probe (sent once, here) to every worker: one report folder, one
    `GET /models` per run."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["kimi_run_id"] = self.state.run_id
        node.workerinput["kimi_probe"] = self.state.target_probe().as_json()

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.state.collected:
            self.state.collected[:] = list(ids)


def ceiling(declared: Ceiling | Callable[[PlanCase], Ceiling], *, resend: bool = False) -> pytest.MarkDecorator:
    """The mark of a suite test's ceiling (`runner/plan.py`): a Ceiling, or a function of the test's PlanCase
    returning one; `resend`: each of its requests may be sent again by `--attempts K` (counted K times)."""
    return pytest.mark.ceiling.with_args(declared, resend=resend)


def uses_operations(*names: str) -> pytest.MarkDecorator:
    """The mark of a suite test exercising these operation groups (or the groups of these operationIds): it is
    skipped, saying why, where the run's surface does not offer one (`--operations`, the operations probe)."""
    return pytest.mark.operations(*groups_of(names))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip each test that needs an operation group the run does not exercise, with the reason (before the plan
    is made: a skipped test plans nothing)."""
    if STATE not in config.stash:
        return
    needs = {item.nodeid: [g for mark in item.iter_markers("operations") for g in mark.args] for item in items}
    if not any(needs.values()):
        return  # no suite test of ours: nothing to probe for
    surface = target_operations_of(config)
    for item in items:
        why = surface.why_not(needs[item.nodeid])
        if why is not None:
            item.add_marker(pytest.mark.skip(reason=why))


def target_operations_of(config: pytest.Config) -> Surface:
    """The operation groups the run exercises (`--operations`, less what the operations probe found missing)."""
    return run_state(config).target_probe().operations


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The plan of the collected tests (`--plan` prints it); the guard holds each test to its ceiling."""
    if STATE not in session.config.stash:
        return
    marks = {item.nodeid: item.get_closest_marker("ceiling") for item in session.items}
    state = run_state(session.config)
    if not state.settings.plan and not any(marks.values()):
        return  # no suite of ours (and no request to learn the models for it)
    models = tuple(state.models)
    known = tuple(info for m in models if (info := target_model_info(session.config, m)) is not None)
    tests = []
    for item in session.items:
        params = dict(item.callspec.params) if isinstance(item, pytest.Function) and hasattr(item, "callspec") else {}
        model_id = model_param(params, models)
        model = target_model_info(session.config, model_id) if model_id is not None else None
        mark = marks[item.nodeid]
        if item.get_closest_marker("skip") is not None:  # not run: nothing sent (a case without a model)
            mark = pytest.mark.ceiling(Ceiling()).mark
        case = PlanCase(params, state.settings, model_id, model, known)
        try:
            tests.append(plan_test(item.nodeid, (mark.args, dict(mark.kwargs)) if mark else None, case))
        except (KimiConformanceError, ValueError) as exc:
            raise pytest.UsageError(f"{item.nodeid}: its ceiling cannot be planned: {exc}") from exc
    probe_sent = not state.settings.is_mock and not state.settings.models
    state.plan = Plan(state.settings, models, tuple(tests), probe_sent)
    state.guard.ceilings = state.plan.limits()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """`--plan`: nothing runs (the plan is printed in the terminal summary)."""
    if STATE in session.config.stash and run_state(session.config).settings.plan:
        return True
    return None


def target_models(config: pytest.Config) -> list[str]:
    """The model ids the run exercises (`--model`, else what the target lists that the contract knows)."""
    return run_state(config).models


def run_settings(config: pytest.Config) -> Settings:
    """The run's settings, for suites that need them when they collect (how many cases the profile asks for)."""
    return run_state(config).settings


def target_model_info(config: pytest.Config, target_model: str) -> ModelInfo | None:
    """The rules table's model for a model id as the target names it."""
    return run_state(config).session.context.model(target_model)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests taking `target_model` run once per model of the target (a `models(predicate)` mark filters them)."""
    if "target_model" not in metafunc.fixturenames:
        return
    config = metafunc.config
    models = target_models(config)
    marks = metafunc.definition.get_closest_marker("models")
    if marks is not None:
        models = [m for m in models if marks.args[0](target_model_info(config, m))]
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
        stop = redact(f"target error: the answer was unusable for this test ({type(exc).__name__}: {exc})")
    if isinstance(stop, str):  # outside the `except`: no "during handling of the above exception"
        pytest.fail(stop, pytrace=False)
    _stop_early(item, stop)
    return None


@pytest.fixture(scope="session")
def kimi_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings (options over config file over defaults)."""
    return run_state(pytestconfig).settings


@pytest.fixture(scope="session")
def target(kimi_settings: Settings, request: pytest.FixtureRequest) -> Iterator[Target]:
    """The target: the embedded mock on a free loopback port (one per xdist worker) or the given URL.

    A URL target that does not answer the run's one `GET /models`, or does not finish its answer (silence, a body
    without end, a reset, a body over the size limit), is recorded once as an HTTP001 or HTTP005 finding; the
    first test fails with that reason and the run stops there (no test waits on a dead target; the report is
    still written)."""
    probe = run_state(request.config).target_probe()
    probe.raise_stop()
    problem = redact(probe.problem) if probe.problem is not None else None
    if problem is not None:
        request.session.shouldfail = problem
        pytest.fail(problem, pytrace=False)
    with open_target(kimi_settings) as opened:
        yield opened


@pytest.fixture(scope="session")
def target_client(target: Target, kimi_settings: Settings, pytestconfig: pytest.Config) -> Iterator[TargetClient]:
    """An HTTP client of the target within the run's budget and pace; every request becomes an `Exchange`. When
    the run is done with it (also after an early stop), what the run created on the account is removed."""
    state, ledger = run_state(pytestconfig), AccountLedger.for_base_url(target.base_url)
    with client_for(
        target.base_url, target.api_key, kimi_settings, state.guard, ledger, observer=state.session.sent
    ) as client:
        try:
            yield client
        finally:
            stopped = leave_as_found(client, ledger)
            state.account = {**ledger.summary(), "cleanup_stopped": stopped}


@pytest.fixture(scope="session")
def target_operations(pytestconfig: pytest.Config) -> Surface:
    """The operation groups the run exercises, for a test that uses an optional one (`Surface.serves`)."""
    return target_operations_of(pytestconfig)


@pytest.fixture(scope="session")
def conformance_session(pytestconfig: pytest.Config) -> ConformanceSession:
    """The run's recorder of check outcomes."""
    return run_state(pytestconfig).session


Verify = Callable[..., None]


@pytest.fixture
def verify(conformance_session: ConformanceSession, request: pytest.FixtureRequest, kimi_settings: Settings) -> Verify:
    """`verify(exchange, only={"ERR001"}, resend=...)`: run the checks, record them, and fail the test on blocking
    findings or crashed checks. With `resend` (a function sending the same request again) and `--attempts K`, a
    request failing only model-behaviour checks is retried up to K times in all (pass@k)."""

    def run(exchange: Exchange, only: set[str] | None = None, resend: Callable[[], Exchange] | None = None) -> None:
        __tracebackhide__ = True
        judgement = conformance_session.check_attempts(
            exchange, resend, kimi_settings.attempts, request.node.nodeid, only
        )
        if judgement:
            pytest.fail(judgement.render(), pytrace=False)

    return run


RecordFidelity = Callable[[Exchange, str, str], Answer]


@pytest.fixture
def tool_fidelity(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> RecordFidelity:
    """`tool_fidelity(exchange, tool, case)`: classify the answer to a request asking for a call of the tool named
    `tool` as K2VV reads it (`fidelity.classify`), count it in the run's fidelity under the request's model (the
    reports' schema_accuracy; `--min-schema-accuracy`), and return the classification."""
    tally = run_state(pytestconfig).fidelity

    def record(exchange: Exchange, tool: str, case: str) -> Answer:
        answer = classify(exchange, tool)
        body = exchange.request_json if isinstance(exchange.request_json, dict) else {}
        tally.add(str(body.get("model")), answer, request.node.nodeid, case)
        return answer

    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """With `--baseline`, a test that failed on its blocking findings, every one known from the baseline, is an
    expected failure (xfailed: `known from the baseline: CODE`), so pytest's own count and exit status agree with
    the verdict. Nothing else changes: the test stopped where it stops without a baseline, so a run sends the same
    requests and meets the same findings with or without one."""
    report: pytest.TestReport = yield
    if _is_worker(item.config) and STATE in item.config.stash and run_state(item.config).plan is not None:
        # the controller draws this worker's progress line from these counters
        report.user_properties.append(snapshot_properties(run_guard(item.config)))
    baseline = item.config.stash.get(BASELINE, None)
    if baseline is None or report.when != "call" or not report.failed or call.excinfo is None:
        return report
    state = run_state(item.config)
    mine = [o for o in state.session.outcomes[item.stash.get(FIRST_OUTCOME, 0) :] if o.test == item.nodeid]
    blocking = [o.finding for o in mine if o.finding is not None and blocks(o.finding.severity, state.settings.strict)]
    failed_on = str(call.excinfo.value).split("\n", 1)[0]  # the judgement's text: its first finding, rendered
    judged = any(f.render().split("\n", 1)[0] == failed_on for f in blocking)
    crashed = any(o.status is Status.CRASHED for o in mine)
    if judged and not crashed and all(fingerprint(f) in baseline for f in blocking):
        report.outcome = "skipped"
        report.wasxfail = "known from the baseline: " + ", ".join(sorted({f.code for f in blocking}))
    return report


class _TestCounter:
    """Counts test outcomes and remembers which tests ran (xdist forwards workers' reports to the controller)."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.state.collected[:] = [item.nodeid for item in items]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.state.tests["xfailed" if hasattr(report, "wasxfail") else report.outcome] += 1
            if not (report.skipped and "not run: " in str(report.longrepr)):
                self.state.reported.add(report.nodeid)


class _ProgressHooks:
    """The live progress lines (`runner/progress.py`), drawn by the process that reports: each xdist worker's
    from the counters its reports carry (`_attach_progress`), the only process's from its own guard."""

    def __init__(self, state: RunState, board: ProgressBoard) -> None:
        self.state = state
        self.board = board

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = getattr(report, "node", None)  # xdist: the worker the report came from
        if node is None and self.state.plan is None:
            return  # no suite test of ours in this session (the plan is made for those only)
        spent = snapshot_in(report.user_properties) if node is not None else Snapshot.of(self.state.guard)
        if spent is None:
            return
        self.board.total = self.board.total or len(self.state.collected)  # xdist: the workers' collection
        finished = report.when == "call" or (report.when == "setup" and report.outcome != "passed")
        worker = str(getattr(getattr(node, "gateway", None), "id", "main")) if node is not None else "main"
        self.board.update(worker, finished_test=finished, spent=spent)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.board.total = len(session.items)  # what is left to run, after `-k` and the like

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.board.finish()


def _report_root(config: pytest.Config) -> Path:
    """`--report-dir`, relative to where pytest was started."""
    return Path(config.invocation_params.dir) / run_state(config).settings.report_dir


def pytest_sessionstart(session: pytest.Session) -> None:
    if STATE in session.config.stash:
        session.config.stash[RESTORE_SIGINT] = stop_on_interrupt(session, run_guard(session.config))


@pytest.hookimpl(trylast=True)  # after pytest's own teardown of the fixtures: the clean-up has run
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if STATE not in config.stash:
        return
    config.stash[RESTORE_SIGINT]()
    state = run_state(config)
    part = RunPart.of(state)
    parts = _report_root(config) / state.run_id / "parts"
    if _is_worker(config):
        part.write(parts, config.workerinput["workerid"])  # type: ignore[attr-defined]
        return
    part.absorb(parts)
    if not part.outcomes and not part.reached:
        if parts.parent.is_dir() and not any(parts.parent.iterdir()):
            parts.parent.rmdir()  # the workers' parts of a run that judged nothing: no empty folder left
        return
    result = run_result(state, part, config.stash.get(BASELINE, None))
    folder = write_reports(result, _report_root(config))
    (folder / "cassette.jsonl").write_text(part.cassette, "utf-8")
    if result.exit_code or session.exitstatus == pytest.ExitCode.OK:
        # the verdict's code: 1 new findings, 2 incomplete (a budget or quota stop, the target gone), 3 a crash
        session.exitstatus = pytest.ExitCode(result.exit_code)
    config.stash[RESULT] = (result, folder)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    plan = run_state(config).plan if STATE in config.stash else None
    if plan is not None and plan.settings.plan:
        terminalreporter.section("kimi-conformance plan")
        for line in plan.lines(verbose=config.get_verbosity() > 0):
            terminalreporter.write_line(line)
        if plan.settings.contract is not None:
            terminalreporter.write_line(load_foreign_contract(plan.settings.contract).line())
    found = config.stash.get(RESULT, None)
    if found is None:
        return
    result, folder = found
    data = result.as_json()
    terminalreporter.section("kimi-conformance")
    for summary in result.per_check():
        if summary.findings:
            severities = sorted({f.severity.value for f in summary.findings})
            title = CHECKS[summary.code].title if summary.code in CHECKS else summary.code
            known = sum(1 for f in summary.findings if summary.known(f))
            terminalreporter.write_line(
                f"{summary.code:8} {title} ({'/'.join(severities)}): {len(summary.findings)} finding(s)"
                + (f", {known} known from the baseline" if known else "")
            )
    for crash in result.crashes[:20]:
        terminalreporter.write_line(crash.crash_line())
    findings = data["summary"]["findings"]
    if result.spending:
        terminalreporter.write_line(f"spent: {result.spending_line()}")
    if result.models:
        terminalreporter.write_line(f"models: {result.models_line()}")
    if result.operations:
        terminalreporter.write_line(f"operations: {result.operations_line()}")
    if run_state(config).settings.contract is not None:
        terminalreporter.write_line(load_foreign_contract(str(run_state(config).settings.contract)).line())
    for line in result.fidelity_lines():
        terminalreporter.write_line(f"fidelity {line}")
    if result.account:
        terminalreporter.write_line(f"account: {result.account_line()}")
    if result.split is not None and result.baseline is not None:
        for line in result.split.lines(result.baseline):
            terminalreporter.write_line(line)
    terminalreporter.write_line(
        f"verdict {data['verdict'].upper()} ({result.verdict_reason}): {data['summary']['outcomes']} check outcomes, "
        f"{findings['error']} error / {findings['warning']} warning / {findings['info']} info findings; "
        f"reports in {folder}"
    )
