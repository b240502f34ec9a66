"""The command group's exit codes: a usage error (an unknown option, a bad value, an unreadable input of ours)
exits 4, as pytest's USAGE_ERROR does for `run`, so that no command says 2, which is `incomplete` (README, *Exit
codes*)."""

from __future__ import annotations

from typing import Any

import click

USAGE_ERROR = 4


class UsageError(click.UsageError):
    """click's usage error, exiting USAGE_ERROR instead of click's 2."""

    exit_code = USAGE_ERROR


class ConformanceGroup(click.Group):
    """A click group whose usage errors (its own, its commands' and its sub-groups') exit USAGE_ERROR, their text
    unchanged."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise UsageError(exc.format_message(), exc.ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise UsageError(exc.format_message(), exc.ctx) from None
