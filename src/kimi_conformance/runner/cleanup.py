"""Leave the account as the run found it: cancel every batch the run left running, wait (bounded) for them to
end, and delete every file the run made exist: uploads, and the output and error files of its batches (facts
§4, §5). It runs when the run's client is done (the `target_client` fixture's teardown), which pytest also
reaches when the run stops early (budget, quota, Ctrl-C, a failed test). Its requests are paced but never
refused for the budget: they spend nothing, and the account is the owner's."""

from __future__ import annotations

import time
from collections.abc import Callable

from kimi_conformance.budget import QuotaExceeded
from kimi_conformance.exchange import Exchange
from kimi_conformance.ledger import CANCELLABLE, AccountLedger
from kimi_conformance.transport import TargetClient

BATCH_END_WAIT = 30.0
"""Seconds to wait for cancelled batches to end (their output files exist only then)."""
POLL_SECONDS = 1.0
GIVE_UP_AFTER = 3
"""Clean-up requests in a row without an answer after which the target is taken to be gone."""


class TargetGoneDuringCleanup(Exception):
    pass


def leave_as_found(
    client: TargetClient,
    ledger: AccountLedger,
    wait: float = BATCH_END_WAIT,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Remove what `ledger` says the run created; return why the clean-up stopped early, or None."""
    unanswered = 0

    def send(operation: str, method: str, path: str) -> Exchange:
        nonlocal unanswered
        exchange = client.request(operation, method, path, within_budget=False)
        unanswered = unanswered + 1 if exchange.status is None else 0
        if unanswered >= GIVE_UP_AFTER:
            raise TargetGoneDuringCleanup(f"{GIVE_UP_AFTER} clean-up requests in a row got no answer")
        return exchange

    try:
        for batch_id in ledger.batches_running():
            if ledger.batches[batch_id] in CANCELLABLE:
                send("cancelBatch", "POST", f"/batches/{batch_id}/cancel")
        deadline = time.monotonic() + wait
        while ledger.batches_running() and time.monotonic() < deadline:
            sleep(POLL_SECONDS)
            for batch_id in ledger.batches_running():
                send("retrieveBatch", "GET", f"/batches/{batch_id}")
                if ledger.batches[batch_id] in CANCELLABLE:  # it moved on before the cancel took: cancel again
                    send("cancelBatch", "POST", f"/batches/{batch_id}/cancel")
        for file_id in ledger.files_left():
            send("deleteFile", "DELETE", f"/files/{file_id}")
    except (TargetGoneDuringCleanup, QuotaExceeded) as exc:
        return str(exc)
    return None
