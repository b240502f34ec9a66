"""ARCHITECTURE.md's layer rules, enforced by import paths: each module imports only the layers its own may, the
mock is used only where the document allows, no import cycle, and the suites use the suite-facing module only.
The rules are read from the document's `layers` block, so the document and this test cannot drift apart."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import kimi_conformance

PACKAGE = Path(kimi_conformance.__file__).parent
ROOT = Path(__file__).resolve().parents[1]


def _block(name: str) -> list[tuple[str, list[str]]]:
    """`key: value value ...` lines of the fenced ```text <name>``` block of ARCHITECTURE.md."""
    text = (ROOT / "ARCHITECTURE.md").read_text("utf-8")
    found = re.search(rf"```text {name}\n(.*?)```", text, re.S)
    assert found, f"ARCHITECTURE.md has no ```text {name}``` block"
    lines = [line.split("#")[0].strip() for line in found.group(1).splitlines()]
    return [(key.strip(), value.split()) for key, _, value in (line.partition(":") for line in lines if line)]


LAYERS = _block("layers")
MAY_IMPORT = dict(_block("may-import"))
MOCK_USERS = set(dict(_block("mock-users"))["modules"])


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """The layer of `kimi_conformance.x.y`: the first entry naming `x` (a module or a package)."""
    top = module.split(".")[1] if "." in module else "__init__"
    for layer, members in LAYERS:
        if top in members:
            return layer
    raise AssertionError(f"{module} is in no layer of ARCHITECTURE.md")


def runtime_imports(path: Path) -> Iterator[str]:
    """The package's modules `path` imports at run time (not under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text("utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kimi_conformance"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if _is_module(submodule) else node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("kimi_conformance"))


def _is_module(name: str) -> bool:
    """Whether `a.b.c` names a module or a package (and not a name inside a module)."""
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {module: set(runtime_imports(path)) - {module} for module, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_the_layers_its_own_may(module: str) -> None:
    layer = layer_of(module)
    allowed = set(MAY_IMPORT[layer])
    wrong = sorted(f"{target} ({layer_of(target)})" for target in GRAPH[module] if layer_of(target) not in allowed)
    assert wrong == [], f"{module} ({layer}) may import {sorted(allowed)} only"


def test_the_mock_is_used_only_where_the_document_allows() -> None:
    users = {module for module, targets in GRAPH.items() if layer_of(module) != "mock" and any(
        layer_of(target) == "mock" for target in targets)}  # fmt: skip
    assert users <= MOCK_USERS, sorted(users - MOCK_USERS)


def test_no_import_cycle() -> None:
    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            raise AssertionError("import cycle: " + " → ".join(cycle))
        if module in done:
            return
        for target in sorted(GRAPH.get(module, set()) & set(MODULES)):
            if not module.startswith(target + "."):  # a package's modules import their package's __init__ freely
                visit(target, [*trail, module])
        done.add(module)

    done: set[str] = set()
    for module in sorted(MODULES):
        visit(module, [])


def test_the_suites_import_the_suite_facing_module_only() -> None:
    for path in sorted((ROOT / "suites").glob("*.py")):
        imported = set(runtime_imports(path))
        assert imported <= {"kimi_conformance.suite"}, f"{path.name} imports {sorted(imported)}"
