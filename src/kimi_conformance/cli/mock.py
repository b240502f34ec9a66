"""`kimi-conformance mock`: serve the reference mock on loopback."""

from __future__ import annotations

import ipaddress
import os

import click

from kimi_conformance.errors import ConfigError
from kimi_conformance.mock.config import DEFAULT_API_KEY, MockConfig
from kimi_conformance.mock.errors import ERROR_ANSWERS
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.rules import LINEUPS


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--allow-non-loopback", is_flag=True, help="Allow a --host that is not a loopback address.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the deterministic generator.")
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY",
    help=f"Accepted API key (repeatable; shown in the process list: prefer --api-key-env). Default: {DEFAULT_API_KEY}.",
)
@click.option(
    "--api-key-env",
    "api_key_envs",
    multiple=True,
    metavar="NAME",
    help="Environment variable holding an accepted API key (repeatable; the key stays out of the process list).",
)
@click.option("--chunk-delay", default=0.0, show_default=True, type=click.FloatRange(0), help="Seconds between chunks.")
@click.option("--out-of-quota", is_flag=True, help="Refuse everything 429 exceeded_current_quota_error.")
@click.option(
    "--latency",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds before each answer (spent holding the request's --max-concurrency slot).",
)
@click.option(
    "--read-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Seconds a request body may stay silent before 408 (the connection is closed).",
)
@click.option("--rpm", type=click.IntRange(1), help="Requests per minute before 429 (all keys together).")
@click.option("--max-concurrency", type=click.IntRange(1), help="Requests in flight before 429 (all keys together).")
@click.option("--tpm", type=click.IntRange(1), help="Chat tokens per minute (prompt + max_tokens) before 429.")
@click.option("--tpd", type=click.IntRange(1), help="Chat tokens per day (prompt + max_tokens) before 429.")
@click.option(
    "--error",
    "error",
    type=click.Choice(list(ERROR_ANSWERS)),
    help="Answer a documented error: 403 permission-denied (every route), 400 content-filter, 429 engine-overloaded, "
    "504 gateway-timeout (chat), 500 server-error (file upload and content).",
)
@click.option(
    "--error-count", type=click.IntRange(0), metavar="N", help="Only the first N requests get --error (default: all)."
)
@click.option(
    "--batch-step", default=0.5, show_default=True, type=click.FloatRange(0), help="Seconds per batch status."
)
@click.option(
    "--lineup",
    type=click.Choice(LINEUPS),
    default="current",
    show_default=True,
    help="Models served: current (today's lineup; retired ids answer 404) or all (an older deployment).",
)
@click.option("--fault", "faults", multiple=True, metavar="NAME", help="Switch on a named deviation (repeatable).")
@click.option("--list-faults", is_flag=True, help="List the named faults and exit.")
def mock(
    host: str,
    allow_non_loopback: bool,
    port: int,
    seed: int,
    api_keys: tuple[str, ...],
    api_key_envs: tuple[str, ...],
    chunk_delay: float,
    latency: float,
    out_of_quota: bool,
    read_timeout: float,
    rpm: int | None,
    max_concurrency: int | None,
    tpm: int | None,
    tpd: int | None,
    error: str | None,
    error_count: int | None,
    batch_step: float,
    lineup: str,
    faults: tuple[str, ...],
    list_faults: bool,
) -> None:
    """Serve the reference mock of the Kimi API (all 13 operations, streaming included)."""
    if list_faults:
        for fault in FAULTS.values():
            codes = "benign" if fault.benign else ",".join(fault.codes)
            click.echo(f"{fault.name}\t{codes}\t{fault.description}")
        return
    from kimi_conformance.mock.server import MockServer

    unset = [name for name in api_key_envs if not os.environ.get(name)]
    if unset:
        raise click.UsageError(f"--api-key-env: {', '.join(unset)} is not set in the environment")
    api_keys = (*api_keys, *(os.environ[name] for name in api_key_envs))
    if not allow_non_loopback and not is_loopback(host):
        raise click.UsageError(f"--host {host} is not a loopback address; pass --allow-non-loopback to serve on it")
    try:
        config = MockConfig(
            seed=seed,
            api_keys=frozenset(api_keys) or frozenset({DEFAULT_API_KEY}),
            chunk_delay=chunk_delay,
            latency=latency,
            out_of_quota=out_of_quota,
            read_timeout=read_timeout,
            rpm=rpm,
            max_concurrency=max_concurrency,
            tpm=tpm,
            tpd=tpd,
            error=error,
            error_count=error_count,
            batch_step_seconds=batch_step,
            faults=frozenset(faults),
            lineup=lineup,
        )
        server = MockServer(config, host, port)
    except (ConfigError, OSError) as exc:
        raise click.UsageError(str(exc)) from exc
    keys = (
        ", ".join(sorted(config.api_keys))
        if not api_keys
        else f"{len(config.api_keys)} key(s) from --api-key / --api-key-env"
    )
    switched = f"; faults on: {', '.join(sorted(config.faults))}" if config.faults else ""
    click.echo(
        f"kimi-conformance mock serving {server.api_base} (accepted keys: {keys}{switched}); Ctrl+C stops it", err=True
    )
    server.serve_forever()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
