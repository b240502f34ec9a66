"""The speed table of issue 17 from one run: every row measured next to its reference, with the ratio and the goal.

Rows, each from the benchmark that owns it (see benchmarks/README.md for what each measures and how):

- mock non-stream and mock stream (`bench_mock.py`): requests/s under `wrk -t1 -c8`, against a Starlette
  hello-world on the same uvicorn settings (a small JSON body; the mock's own events, streamed); goal >= 50%;
- SSE decoder (`bench_sse.py`): MB/s on ~21 MB in 1,400-byte pieces, against httpx-sse (and openai-python);
  goal: at least httpx-sse's speed, lines ending only at CR, LF, CRLF;
- proxy (`bench_proxy.py`): median ms added to a small completion, checks on, against a direct call, back to
  back and paced; goal <= 1 ms;
- default suite (`bench_suite.py`): wall seconds of `kimi-conformance run` on today's models (coverage phase
  included) against `schemathesis run` (examples, coverage, fuzzing) on the same mock; goal <= 1x.

    python -m benchmarks.bench_table            # from the repository root; about three minutes
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import statistics

from benchmarks.bench_mock import GOAL as MOCK_GOAL
from benchmarks.bench_mock import measure as mock_rows
from benchmarks.bench_proxy import GOAL_MS, deployed
from benchmarks.bench_sse import compare
from benchmarks.bench_suite import suite_pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="each wrk measurement (default 3)")
    parser.add_argument("--requests", type=int, default=400, help="proxy: requests each way (default 400)")
    args = parser.parse_args()
    if args.seconds <= 0 or args.requests < 10:
        parser.error("--seconds must be > 0 and --requests at least 10")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # wrk leaves mid-stream at its end: not our error

    rows: list[tuple[str, ...]] = []
    mock, events = mock_rows(args.seconds, 1.0, 8, 3)
    for measured in mock:
        verdict = "met" if measured.ratio >= MOCK_GOAL else "NOT met"
        reference = f"{measured.reference:,.0f} hello-world"
        share = f"{measured.ratio:.1%}"
        rows.append((measured.label, f"{measured.mock:,.0f}", reference, share, f">= {MOCK_GOAL:.0%}: {verdict}", ""))
    sse = compare(20.0, 5)
    ours = f"{sse.speed('kimi-conformance'):.0f}"
    lines = "lines end at CR, LF, CRLF only: " + ", ".join(
        f"{name} {'yes' if only else 'no'}" for name, only in sse.line_ends_only.items()
    )
    for name in ("httpx-sse", "openai-python"):
        if name in sse.best:
            faster = 1 / sse.ours_over_theirs[name]
            goal = f">= 1x: {'met' if faster >= 1 else 'NOT met'}" if name == "httpx-sse" else ""
            label = "SSE decoder, MB/s" if name == "httpx-sse" else ""
            rows.append((label, ours, f"{sse.speed(name):.0f} {name}", f"{faster:.2f}x", goal, lines if goal else ""))
    for latencies, label in (
        (deployed(args.requests, 50, 0.0), "proxy added ms, back to back"),
        (deployed(args.requests, 50, 5.0), "proxy added ms, paced 5 ms"),
    ):
        verdict = "met" if latencies.added <= GOAL_MS else "NOT met"
        judging = latencies.judging or {}
        counts = f"checks on: judged {judging.get('judged')}, dropped {judging.get('dropped')}"
        direct = f"{statistics.median(latencies.direct):.2f} direct"
        rows.append((label, f"{latencies.added:.2f}", direct, "", f"<= {GOAL_MS:g} ms: {verdict}", counts))

    suite_run, schemathesis_run = suite_pair()
    if suite_run.error or schemathesis_run.error:
        raise SystemExit(f"suite row failed: {suite_run.error or schemathesis_run.error}")
    suite_share = suite_run.wall_s / schemathesis_run.wall_s
    rows.append(
        (
            "default suite, wall s",
            f"{suite_run.wall_s:.1f}",
            f"{schemathesis_run.wall_s:.1f} schemathesis",
            f"{suite_share:.2f}x",
            f"<= 1x: {'met' if suite_share <= 1 else 'NOT met'}",
            f"checks: ours {suite_run.checks or 0:,}, schemathesis {schemathesis_run.checks or 0:,}",
        )
    )
    print(
        f"\nissue 17 speed table, one run; Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"mock stream: {events} events"
    )
    widths = (34, 9, 25, 9, 17, 0)
    for cells in [("what", "figure", "reference", "ratio", "goal", "note"), *rows]:
        print("".join(f"{cell:<{width}}" for cell, width in zip(cells, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
