"""The first SIGINT records an early stop and raises nothing (a raise can be lost in a finaliser, or crash
pytest's report of it); the second raises KeyboardInterrupt at once."""

from __future__ import annotations

import gc
import os
import signal
from types import SimpleNamespace
from typing import Any, cast

import pytest

from kimi_conformance.budget import BudgetReached, Guard
from kimi_conformance.runner.interrupt import stop_on_interrupt


def _signal_self() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):  # the handler runs between these bytecodes
        pass


class _SignalsWhileCollected:
    """An object whose finaliser receives SIGINT: where a raise would be lost."""

    def __del__(self) -> None:
        _signal_self()


def _session() -> Any:
    return SimpleNamespace(shouldstop=False)


def test_the_first_interrupt_stops_the_run_even_from_a_finaliser(capfd: pytest.CaptureFixture[str]) -> None:
    session, guard = _session(), Guard()
    restore = stop_on_interrupt(cast(pytest.Session, session), guard)
    try:
        _SignalsWhileCollected()  # dropped at once: its __del__ runs here
        gc.collect()
    finally:
        restore()
    assert session.shouldstop == "interrupted (SIGINT)"  # pytest stops after the current test
    assert guard.reached == "interrupted (SIGINT)"  # the verdict is incomplete; no request is sent any more
    with pytest.raises(BudgetReached, match="interrupted"):
        guard.admit()
    guard.admit(within_budget=False)  # the clean-up still goes ahead
    assert "stopping after the requests in flight" in capfd.readouterr().err


def test_the_second_interrupt_raises_at_once() -> None:
    session, guard = _session(), Guard()
    restore = stop_on_interrupt(cast(pytest.Session, session), guard)
    try:
        _signal_self()
        with pytest.raises(KeyboardInterrupt):
            _signal_self()
    finally:
        restore()


def test_an_interrupt_keeps_an_earlier_reason_to_stop() -> None:
    session, guard = _session(), Guard(reached="request budget reached: 20 of --max-requests 20")
    restore = stop_on_interrupt(cast(pytest.Session, session), guard)
    try:
        _signal_self()
    finally:
        restore()
    assert (guard.reached or "").startswith("request budget reached") and session.shouldstop == "interrupted (SIGINT)"


def test_the_previous_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGINT)
    stop_on_interrupt(cast(pytest.Session, _session()), Guard())()
    assert signal.getsignal(signal.SIGINT) is before
