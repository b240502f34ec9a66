"""The proxy judges on a thread of its own: a slow judge never holds up traffic, a full judging queue drops the
judging (counted in `proxy.json` and logged), never a request, and shutdown drains the queue within its time."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest

from kimi_conformance.exchange import Exchange
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.proxy import serve_proxy_in_thread
from kimi_conformance.proxy_recorder import JudgingWorker, Recorder, Relayed
from kimi_conformance.runner.session import ConformanceSession, Judgement

BODY = {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 20}
HEADERS = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
SAFETY_SECONDS = 30.0
"""The longest a blocked judge waits for its release, so that a failing test cannot hang the run."""


class BlockedJudge:
    """Stands in for `ConformanceSession.check`: every exchange waits until `release` is set, then is judged as
    usual. `entered` is set when the first exchange arrives; `returned` counts the exchanges judged so far."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.returned = 0
        judge = ConformanceSession.check

        def check(
            session: ConformanceSession, exchange: Exchange, test: str = "", only: set[str] | None = None
        ) -> Judgement:
            self.entered.set()
            self.release.wait(SAFETY_SECONDS)
            judgement = judge(session, exchange, test, only)
            self.returned += 1
            return judgement

        monkeypatch.setattr(ConformanceSession, "check", check)


def cassette_lines(folder: Path) -> list[str]:
    return (folder / "cassette.jsonl").read_text("utf-8").splitlines()


def judging_counts(folder: Path) -> dict[str, int]:
    """The judging counts the proxy wrote into its recording's `proxy.json` when it stopped."""
    counts: dict[str, int] = json.loads((folder / "proxy.json").read_text("utf-8"))["judging"]
    return counts


def models_exchange() -> Relayed:
    """A relayed `GET /models` answered with an empty list, as the event loop hands it to the judge."""
    exchange = Exchange(
        operation="listModels",
        method="GET",
        url="http://127.0.0.1:1/v1/models",
        request_headers={},
        status=200,
        response_headers={"content-type": "application/json"},
    )
    return Relayed(exchange, b"", [b'{"object": "list", ', b'"data": []}'])


def test_a_request_is_relayed_while_the_judge_is_still_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judge = BlockedJudge(monkeypatch)
    with (
        serve_in_thread(MockConfig(lineup="all")) as mock,
        serve_proxy_in_thread(mock.api_base, tmp_path) as url,
        httpx.Client(headers=HEADERS, timeout=10) as client,
    ):
        assert client.post(url + "/chat/completions", json=BODY).status_code == 200
        assert judge.entered.wait(10), "the proxy never judged the completion"
        models = client.get(url + "/models")
        assert models.status_code == 200 and models.json()["data"]
        assert judge.returned == 0  # the completion's judging is still blocked: the GET did not wait for it
        judge.release.set()
    assert judge.returned == 2 and len(cassette_lines(tmp_path)) == 2  # both judged and recorded before shutdown
    assert judging_counts(tmp_path) == {"judged": 2, "dropped": 0, "failed": 0, "unjudged_at_shutdown": 0}


def test_a_full_judging_queue_drops_the_judging_never_the_traffic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    judge = BlockedJudge(monkeypatch)
    with (
        caplog.at_level(logging.WARNING, logger="kimi_conformance.proxy"),
        serve_in_thread(MockConfig(lineup="all")) as mock,
        serve_proxy_in_thread(mock.api_base, tmp_path, judging_queue=1) as url,
        httpx.Client(headers=HEADERS, timeout=10) as client,
    ):
        first = client.get(url + "/models")
        assert judge.entered.wait(10)  # the worker holds the first exchange: the queue is empty
        second = client.get(url + "/models")  # waits in the queue, its only place
        third = client.get(url + "/models")  # no room: its judging is dropped
        assert [reply.status_code for reply in (first, second, third)] == [200, 200, 200]
        assert third.json() == first.json()
        deadline = time.monotonic() + 10  # the relay queues an exchange after its last byte went out: wait for it
        while not _warned(caplog, "judging queue is full") and time.monotonic() < deadline:
            time.sleep(0.01)
        judge.release.set()
    assert judging_counts(tmp_path) == {"judged": 2, "dropped": 1, "failed": 0, "unjudged_at_shutdown": 0}
    assert len(cassette_lines(tmp_path)) == 2
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("judging queue is full" in text for text in warnings), warnings  # the first drop, as it happens
    assert any("1 dropped" in text for text in warnings), warnings  # the counts, at shutdown


def test_a_judging_error_is_counted_and_logged_in_one_line_and_the_worker_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    judge = ConformanceSession.check
    calls: list[str] = []

    def fails_once(
        session: ConformanceSession, exchange: Exchange, test: str = "", only: set[str] | None = None
    ) -> Judgement:
        calls.append(exchange.url)
        if len(calls) == 1:
            raise RuntimeError("the recorder broke")
        return judge(session, exchange, test, only)

    monkeypatch.setattr(ConformanceSession, "check", fails_once)
    with (
        caplog.at_level(logging.WARNING, logger="kimi_conformance.proxy"),
        serve_in_thread(MockConfig(lineup="all")) as mock,
        serve_proxy_in_thread(mock.api_base, tmp_path) as url,
        httpx.Client(headers=HEADERS, timeout=10) as client,
    ):
        assert [client.get(url + "/models").status_code for _ in range(2)] == [200, 200]
    assert judging_counts(tmp_path) == {"judged": 1, "dropped": 0, "failed": 1, "unjudged_at_shutdown": 0}
    assert len(cassette_lines(tmp_path)) == 1
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert "RuntimeError: the recorder broke" in errors[0].getMessage() and "\n" not in errors[0].getMessage()


def test_shutdown_judges_what_is_still_queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judge = BlockedJudge(monkeypatch)
    worker = JudgingWorker(Recorder(tmp_path), queue_size=8)
    assert all(worker.submit(models_exchange()) for _ in range(5))
    assert judge.entered.wait(10)
    threading.Timer(0.05, judge.release.set).start()  # released while close() is already draining
    counts = worker.close()
    assert (counts.judged, counts.unjudged_at_shutdown) == (5, 0) and len(cassette_lines(tmp_path)) == 5


def test_shutdown_gives_up_on_a_stuck_judge_after_its_drain_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judge = BlockedJudge(monkeypatch)
    worker = JudgingWorker(Recorder(tmp_path), queue_size=8, drain_seconds=0.2)
    assert all(worker.submit(models_exchange()) for _ in range(3))
    assert judge.entered.wait(10)
    counts = worker.close()  # returns although the judge is still blocked
    assert judge.returned == 0 and (counts.judged, counts.unjudged_at_shutdown) == (0, 3)
    assert judging_counts(tmp_path)["unjudged_at_shutdown"] == 3
    judge.release.set()


def test_a_judging_queue_holds_at_least_one_exchange(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        JudgingWorker(Recorder(tmp_path), queue_size=0)


def _warned(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in list(caplog.records) if record.levelno == logging.WARNING)
