"""Reports of a run: the results are built once (`RunResult`) and rendered as JSON, JUnit, Markdown and HTML."""

from __future__ import annotations

from kimi_conformance.report.results import RESULTS_SCHEMA_VERSION, CheckSummary, RunResult
from kimi_conformance.report.writer import write_reports

__all__ = ["RESULTS_SCHEMA_VERSION", "CheckSummary", "RunResult", "write_reports"]
