"""Interrupts that cannot be lost: SIGINT (which `kimi-conformance run` also sends its pytest child for SIGTERM)
stops the run as an early stop, like a spent budget.

Python's default handler only raises KeyboardInterrupt, and when the signal lands while a weakref callback or a
`__del__` runs (the garbage collector can start one between any two bytecodes), that exception is printed as
"Exception ignored" and lost: the run goes on to the end and reports a pass. This handler records the stop
first (the guard refuses further requests, pytest stops after the current test, the verdict is `incomplete`)
and then raises, so an in-flight request is cut short when the raise is not lost.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

import pytest

from kimi_conformance.budget import Guard


def stop_on_interrupt(session: pytest.Session, guard: Guard) -> Callable[[], None]:
    """Install the handler for this session; return what restores the previous one."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach only the main thread; nothing to install elsewhere

    def interrupted(signum: int, frame: FrameType | None) -> None:
        reason = f"interrupted ({signal.Signals(signum).name})"
        guard.reached = guard.reached or reason
        session.shouldstop = session.shouldstop or reason
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore
