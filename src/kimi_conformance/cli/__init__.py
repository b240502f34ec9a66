"""The `kimi-conformance` command line."""

from __future__ import annotations

import click

from kimi_conformance import __version__
from kimi_conformance.cli.baseline import baseline
from kimi_conformance.cli.checks import checks
from kimi_conformance.cli.compare import compare
from kimi_conformance.cli.demo import demo
from kimi_conformance.cli.drift import drift
from kimi_conformance.cli.group import ConformanceGroup
from kimi_conformance.cli.mock import mock
from kimi_conformance.cli.proxy import proxy, report
from kimi_conformance.cli.recheck import recheck_command
from kimi_conformance.cli.rules import rules
from kimi_conformance.cli.run import run
from kimi_conformance.cli.selftest import selftest


@click.group(cls=ConformanceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kimi-conformance")
def cli() -> None:
    """Contract and conformance testing for the Moonshot AI / Kimi API, with a streaming reference mock."""


cli.add_command(run)
cli.add_command(checks)
cli.add_command(compare)
cli.add_command(baseline)
cli.add_command(rules)
cli.add_command(mock)
cli.add_command(proxy)
cli.add_command(report)
cli.add_command(recheck_command)
cli.add_command(demo)
cli.add_command(drift)
cli.add_command(selftest)


def main() -> None:
    """Console-script entry point."""
    cli()


__all__ = ["cli", "main"]
