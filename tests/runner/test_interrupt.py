"""SIGINT stops the run even when its KeyboardInterrupt is lost: a signal landing while a weakref callback or a
`__del__` runs raises there, and Python prints "Exception ignored" and goes on. The stop is recorded first."""

from __future__ import annotations

import gc
import os
import signal
import sys
from types import SimpleNamespace
from typing import Any, cast

import pytest

from kimi_conformance.budget import BudgetReached, Guard
from kimi_conformance.runner.interrupt import stop_on_interrupt


class _SignalsWhileCollected:
    """An object whose finaliser receives SIGINT: the handler raises inside `__del__`, where the raise is lost."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs between these bytecodes
            pass


def _session() -> Any:
    return SimpleNamespace(shouldstop=False)


def test_an_interrupt_lost_in_a_finaliser_still_stops_the_run() -> None:
    session, guard = _session(), Guard()
    lost: list[BaseException | None] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: lost.append(unraisable.exc_value)
    restore = stop_on_interrupt(cast(pytest.Session, session), guard)
    try:
        _SignalsWhileCollected()  # dropped at once: its __del__ runs here
        gc.collect()
    finally:
        restore()
        sys.unraisablehook = previous_hook
    assert lost and isinstance(lost[0], KeyboardInterrupt)  # the raise was lost, as Python does
    assert session.shouldstop == "interrupted (SIGINT)"  # pytest stops after the current test
    assert guard.reached == "interrupted (SIGINT)"  # the verdict is incomplete; no request is sent any more
    with pytest.raises(BudgetReached, match="interrupted"):
        guard.admit()


def test_an_interrupt_raises_where_it_can() -> None:
    session, guard = _session(), Guard()
    restore = stop_on_interrupt(cast(pytest.Session, session), guard)
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
    finally:
        restore()
    assert guard.reached == "interrupted (SIGINT)"


def test_the_previous_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGINT)
    stop_on_interrupt(cast(pytest.Session, _session()), Guard())()
    assert signal.getsignal(signal.SIGINT) is before
