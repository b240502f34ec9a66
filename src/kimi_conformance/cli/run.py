"""`kimi-conformance run`: the conformance suite against a target, through pytest (exit codes are pytest's)."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import click

from kimi_conformance.settings import PROFILES


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


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--target", help="`mock` (default: the embedded reference mock) or an SDK-style base URL.")
@click.option("--api-key-env", metavar="NAME", help="Environment variable holding the key (default MOONSHOT_API_KEY).")
@click.option("--model", "models", multiple=True, help="Model to exercise (repeatable; default: all the target lists).")
@click.option("--model-family", multiple=True, metavar="ALIAS=MODEL", help="The target's id for a contract model.")
@click.option("--profile", help=f"How much to generate: {', '.join(PROFILES)} (default: standard).")
@click.option("--checks", multiple=True, help="Only these checks (codes or names, comma-separated or repeated).")
@click.option("--exclude-checks", multiple=True, help="Skip these checks.")
@click.option("--request-timeout", type=float, help="Seconds per request (default 30).")
@click.option("--stream-timeout", type=float, help="Seconds a whole body may take (default 120).")
@click.option("--stream-idle-timeout", type=float, help="Seconds of silence allowed inside a body.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("--report-dir", help="Where to write reports (default: reports).")
@click.option("--mock-fault", "mock_faults", multiple=True, metavar="NAME", help="Break the embedded mock on purpose.")
@click.option("--max-requests", type=int, help="Budget: stop cleanly after this many requests (exit 2).")
@click.option("--max-tokens", type=int, help="Budget: stop cleanly before spending more tokens (from usage).")
@click.option("--rpm", type=float, help="At most this many requests per minute.")
@click.option("--concurrency", type=int, help="At most this many requests in flight (caps -n).")
@click.option("--max-retries", type=int, help="Retries of a rate-limited (429) answer (default 3).")
@click.option("--attempts", type=int, help="Resend requests failing only model-behaviour checks (pass@k).")
@click.option("--price-table", metavar="FILE", help="USD per 1M tokens per model (TOML) for the cost estimate.")
@click.option("-n", "--workers", metavar="N", help="pytest-xdist workers (`auto`, or a number).")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run(
    target: str | None,
    api_key_env: str | None,
    models: tuple[str, ...],
    model_family: tuple[str, ...],
    profile: str | None,
    checks: tuple[str, ...],
    exclude_checks: tuple[str, ...],
    request_timeout: float | None,
    stream_timeout: float | None,
    stream_idle_timeout: float | None,
    strict: bool,
    report_dir: str | None,
    mock_faults: tuple[str, ...],
    max_requests: int | None,
    max_tokens: int | None,
    rpm: float | None,
    concurrency: int | None,
    max_retries: int | None,
    attempts: int | None,
    price_table: str | None,
    workers: str | None,
    pytest_args: tuple[str, ...],
) -> None:
    """Check a target against the contract (default: the embedded mock). Extra arguments go to pytest; a suite
    module may be named alone (`test_rules.py`, `test_chat.py::test_partial_mode`)."""
    pytest_args = tuple(_suite_module(arg) for arg in pytest_args)
    # The whole suite, unless the extra arguments name test files or nodes of their own.
    names_tests = any(Path(arg.split("::")[0]).exists() for arg in pytest_args if not arg.startswith("-"))
    # `-o addopts=`: the suite runs the same whatever pytest options the current project sets for its own tests.
    args = [
        sys.executable,
        "-m",
        "pytest",
        *([] if names_tests else [str(suites_path())]),
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-q",
        "-rfE",
    ]
    for flag, value in (
        ("--target", target),
        ("--api-key-env", api_key_env),
        ("--profile", profile),
        ("--request-timeout", request_timeout),
        ("--stream-timeout", stream_timeout),
        ("--stream-idle-timeout", stream_idle_timeout),
        ("--report-dir", report_dir),
        ("--max-requests", max_requests),
        ("--max-tokens", max_tokens),
        ("--rpm", rpm),
        ("--concurrency", concurrency),
        ("--max-retries", max_retries),
        ("--attempts", attempts),
        ("--price-table", price_table),
        ("-n", workers),
    ):
        if value is not None:
            args += [flag, str(value)]
    for flag, values in (
        ("--model", models),
        ("--model-family", model_family),
        ("--checks", checks),
        ("--exclude-checks", exclude_checks),
        ("--mock-fault", mock_faults),
    ):
        for value in values:
            args += [flag, value]
    if strict:
        args.append("--strict-conformance")
    # A child process, so pytest imports (and assertion-rewrites) the plugin and the suites itself.
    raise SystemExit(subprocess.call([*args, *pytest_args]))
