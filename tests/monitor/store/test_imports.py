"""The store sits below alerts, notify, sources, the engine and the face: it imports only
itself, the config models, labels, periods and matchers, and the detectors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STORE = Path(__file__).resolve().parents[3] / "monitor" / "store"
BELOW = ("monitor.store", "monitor.config", "monitor.periods", "monitor.matchers", "monitor.labels",
         "detectors")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name.split(".")[0] in ("monitor", "detectors")}


@pytest.mark.parametrize("path", sorted(STORE.glob("*.py")), ids=lambda p: p.name)
def test_a_store_module_imports_nothing_above_the_store(path: Path) -> None:
    above = sorted(name for name in imported(path)
                   if not any(name == room or name.startswith(room + ".") for room in BELOW))
    assert above == []


def test_every_store_module_is_small_and_says_why_it_exists() -> None:
    for path in STORE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, path.name
        assert ast.get_docstring(ast.parse(text)), path.name
