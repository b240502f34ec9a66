"""Writing a run's reports to `reports/<run-id>/` and pointing `reports/latest` at it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kimi_conformance.report.html import render_html
from kimi_conformance.report.junit import render_junit
from kimi_conformance.report.markdown import render_markdown
from kimi_conformance.report.results import RunResult


def write_reports(result: RunResult, report_root: Path) -> Path:
    """Write junit.xml, results.json, report.md and report.html; return the run's folder."""
    folder = report_root / result.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    (folder / "junit.xml").write_text(render_junit(result), "utf-8")
    (folder / "report.md").write_text(render_markdown(result), "utf-8")
    (folder / "report.html").write_text(render_html(result), "utf-8")
    latest = report_root / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        os.symlink(result.run_id, latest, target_is_directory=True)
    except OSError:
        (report_root / "LATEST").write_text(result.run_id + "\n", "utf-8")  # filesystems without symlinks
    return folder
