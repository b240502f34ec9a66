"""`kimi-conformance run`: the conformance suite against a target, through pytest (exit codes are pytest's)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import click

from kimi_conformance.settings import run_options


def suites_path() -> Path:
    """The suites: packaged in a wheel as `kimi_conformance/_suites`, else `suites/` of the source tree."""
    packaged = Path(str(resources.files("kimi_conformance") / "_suites"))
    if (packaged / "conftest.py").is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "suites"


def _suite_module(arg: str) -> str:
    """`test_rules.py[::node]` → the packaged suite module, when no such file exists where the user stands."""
    name, _, node = arg.partition("::")
    packaged = suites_path() / name
    if arg.startswith("-") or Path(name).exists() or "/" in name or not packaged.is_file():
        return arg
    return str(packaged) + (f"::{node}" if node else "")


def forwarded(values: dict[str, Any]) -> list[str]:
    """The pytest options that carry the run options given on the command line (names as in `Settings`)."""
    args: list[str] = []
    for option in run_options():
        value = values.get(option.name)
        if option.kind is bool:
            args += [option.pytest_flag] if value else []
        elif option.repeatable:
            for item in value or ():
                args += [option.pytest_flag, str(item)]
        elif value is not None:
            args += [option.pytest_flag, str(value)]
    return args


def with_run_options(command: Callable[..., None]) -> Callable[..., None]:
    """The click options of `settings.run_options()` (the pytest plugin takes the same)."""
    for option in reversed(run_options()):
        kind: Any = click.Choice(option.choices) if option.choices else option.kind
        if option.kind is bool:
            decorator = click.option(option.flag, option.name, is_flag=True, default=None, help=option.help + ".")
        else:
            decorator = click.option(
                option.flag,
                option.name,
                type=kind,
                multiple=option.repeatable,
                metavar=option.metavar,
                help=option.help_with_default + ".",
            )
        command = decorator(command)
    return command


@click.command(context_settings={"ignore_unknown_options": True})
@with_run_options
@click.option("-n", "--workers", metavar="N", help="pytest-xdist workers (`auto`, or a number).")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run(workers: str | None, pytest_args: tuple[str, ...], **values: Any) -> None:
    """Check a target against the contract (default: the embedded mock). Extra arguments go to pytest; a suite
    module may be named alone (`test_rules.py`, `test_chat.py::test_partial_mode`)."""
    pytest_args = tuple(_suite_module(arg) for arg in pytest_args)
    # The whole suite, unless the extra arguments name test files or nodes of their own.
    names_tests = any(Path(arg.split("::")[0]).exists() for arg in pytest_args if not arg.startswith("-"))
    # `--plan -v` lists every test's ceiling: pytest's verbosity, which our usual `-q` would cancel.
    listing = bool(values.get("plan")) and any(arg in ("-v", "--verbose") for arg in pytest_args)
    # `-o addopts=`: the suite runs the same whatever pytest options the current project sets for its own tests.
    # `--assert=plain`: the suites report through findings, not assert statements; rewriting them would rewrite
    # every module of schemathesis and hypothesis (pytest plugins) too, about a second per run where no bytecode
    # is written (PYTHONDONTWRITEBYTECODE). A `--assert=rewrite` among the extra arguments comes later and wins.
    args = [
        sys.executable,
        "-m",
        "pytest",
        *([] if names_tests else [str(suites_path())]),
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "--assert=plain",
        *([] if listing else ["-q"]),
        "-rfE",
        *forwarded(values),
        *(["-n", workers] if workers is not None else []),
    ]
    # A child process, so pytest imports the plugin and the suites itself.
    raise SystemExit(run_child([*args, *pytest_args]))


def run_child(command: list[str]) -> int:
    """Run pytest as a child and wait for it. SIGTERM or SIGINT to this process reaches the child's process group
    (pytest and its xdist workers) as an interrupt: the first stops the run after the requests in flight, removes
    what it created and writes the reports of what ran (`runner/interrupt.py`); a second stops it at once (the
    reports are still written); a third kills it. The child has a session of its own, so a terminal's Ctrl+C
    reaches it once, through here."""
    child = subprocess.Popen(command, start_new_session=True)
    escalation = [signal.SIGINT, signal.SIGINT, signal.SIGKILL]

    def forward(signum: int, frame: object) -> None:
        if child.poll() is None and escalation:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, escalation.pop(0))

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # a second Ctrl+C while the child winds down
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
