"""Interrupts that cannot be lost or garble the output: the first SIGINT (which `kimi-conformance run` also sends
its pytest child for SIGTERM) stops the run as an early stop, like a spent budget; a second one stops it at once.

Python's default handler raises KeyboardInterrupt wherever the main thread is. When that is a weakref callback or
a `__del__` (the garbage collector can start one between any two bytecodes), the exception is printed as
"Exception ignored" and lost, and the run goes on to the end and reports a pass; and where the frame has no line
number, pytest's own report of the interrupt crashes with a traceback. So the first interrupt only records the
stop: the guard refuses every further request (the test in flight ends as not run), pytest stops after the
current test, the verdict is `incomplete`, and what the run created is still removed. A request in flight ends
within its timeouts; a second interrupt raises KeyboardInterrupt for those who will not wait.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

import pytest

from kimi_conformance.budget import Guard

NOTICE = b"\nkimi-conformance: stopping after the requests in flight (interrupt again to stop at once)\n"


def stop_on_interrupt(session: pytest.Session, guard: Guard) -> Callable[[], None]:
    """Install the handler for this session; return what restores the previous one."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach only the main thread; nothing to install elsewhere

    interrupts = 0

    def interrupted(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise KeyboardInterrupt  # the second time: at once
        reason = f"interrupted ({signal.Signals(signum).name})"
        guard.reached = guard.reached or reason
        session.shouldstop = session.shouldstop or reason
        os.write(2, NOTICE)  # async-signal-safe, unlike print

    previous = signal.signal(signal.SIGINT, interrupted)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore
