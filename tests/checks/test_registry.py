"""The check registry: unique stable codes, docstrings, spec references that resolve, documented in docs/checks.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kimi_conformance import contract
from kimi_conformance.checks import CHECKS, select
from kimi_conformance.cli import cli
from kimi_conformance.cli.checks import render_markdown
from kimi_conformance.errors import ConfigError
from kimi_conformance.mock.faults import FAULTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_check_is_complete(code: str) -> None:
    check = CHECKS[code]
    assert check.code == code and check.title and check.doc and check.name.islower()
    contract.resolve_pointer(contract.load_contract(), check.spec)
    assert f"## {code}\n" in DOCS.read_text(encoding="utf-8")
    assert any(code in fault.codes for fault in FAULTS.values()), f"no mock fault triggers {code}"
    for operation in check.operations or ():
        assert operation in contract.operations()


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_each_summary_is_a_whole_sentence(code: str) -> None:
    """The summary (docs/checks.md, `kimi-conformance checks`) is the docstring's first paragraph, never a line cut
    where the docstring wraps: it ends with a full stop or a closing code span."""
    doc = CHECKS[code].doc
    assert doc.endswith((".", "`")) and "\n" not in doc, f"{code}: {doc!r}"


def test_a_wrapped_first_sentence_is_kept_whole() -> None:
    assert CHECKS["CHNK008"].doc.endswith("no other chunk carries a top-level usage other than null.")


def test_docs_are_generated_from_the_registry() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "regenerate: kimi-conformance checks --format markdown"
    )


def test_fault_codes_name_registered_checks() -> None:
    for fault in FAULTS.values():
        assert set(fault.codes) <= set(CHECKS), fault.name


def test_select_by_code_or_name() -> None:
    assert select(["HTTP001,error_envelope_shape"]) == {"HTTP001", "ERR001"}
    assert "HTTP001" not in select([], ["target_answers"])
    assert select() == set(CHECKS)
    with pytest.raises(ConfigError, match="unknown check"):
        select(["NOPE001"])


def test_checks_command_lists_every_check() -> None:
    output = CliRunner().invoke(cli, ["checks"]).output
    assert [line.split()[0] for line in output.splitlines()] == sorted(CHECKS)


def test_every_check_has_in_process_unit_tests() -> None:
    """Each code is exercised by name in a `tests/checks/test_*_checks.py` module (one test per branch), beside
    the end-to-end self-test."""
    units = "".join(path.read_text("utf-8") for path in Path(__file__).parent.glob("test_*_checks.py"))
    assert [code for code in sorted(CHECKS) if f'"{code}"' not in units] == []
