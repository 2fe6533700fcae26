"""The rooms of the code and which way imports run (docs/architecture.md).

Every import of `monitor` and `detectors` modules, at module level or inside a function, is
read from the source: none may run from a lower layer to a higher one, sources and notify
may not import each other, and no module may reach itself through its imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Top to bottom. A module belongs to the first prefix that names it (longest first).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("face", ("monitor.cli", "monitor.__main__", "monitor.app", "monitor.admin", "monitor.dbcommands",
              "monitor.api", "monitor.http", "monitor.metrics", "monitor.metrics_docs", "monitor.exposition",
              "monitor.detect", "monitor.backtest", "monitor.logs", "monitor.failures",
              "monitor.detect_input", "monitor.cli_parser", "monitor.alerts_command",
              "monitor.check_command", "monitor.slack_events", "monitor.websecurity", "monitor.health",
              "monitor.listener",
              "monitor.ui")),
    ("engine", ("monitor.engine", "monitor.runtime", "monitor.evaluation", "monitor.executor",
                "monitor.scheduler", "monitor.drill", "monitor.replica")),
    ("sources | notify", ("monitor.sources", "monitor.notify")),
    ("alerts", ("monitor.alerts",)),
    ("store", ("monitor.store",)),
    ("config and shared helpers", ("monitor.config", "monitor.labels", "monitor.periods", "monitor.matchers",
                                   "monitor.m49", "monitor.retry", "monitor.demo", "monitor.hierarchy",
                                   "monitor.secrets", "monitor.crontab")),
    ("detectors", ("detectors",)),
)
SIBLINGS_APART = ("monitor.sources", "monitor.notify")
# A compiled-kernel helper is the one piece of detectors that sources may use.
SOURCES_MAY_USE = ("detectors.jit",)


def modules() -> dict[str, Path]:
    found = {}
    for path in [*REPO.glob("monitor/**/*.py"), *REPO.glob("detectors/**/*.py")]:
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str) -> int:
    if name == "monitor":  # the package itself: a docstring, nothing imported
        return len(LAYERS) - 2
    best: tuple[int, int] | None = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if within(name, prefix) and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    assert best is not None, f"{name} is in no layer: add it to LAYERS and docs/architecture.md"
    return best[0]


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every project import in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


GRAPH = {name: sorted(set(imports(name, path, modules()))) for name, path in modules().items()}


def test_every_module_has_a_layer() -> None:
    for name in GRAPH:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_run_down_the_layers(name: str) -> None:
    here = layer_of(name)
    wrong = []
    for target, line in GRAPH[name]:
        there = layer_of(target)
        if there < here:
            wrong.append(f"line {line}: {target} ({LAYERS[there][0]}) is above {name} ({LAYERS[here][0]})")
        mine = next((p for p in SIBLINGS_APART if within(name, p)), None)
        theirs = next((p for p in SIBLINGS_APART if within(target, p)), None)
        if mine and theirs and mine != theirs:
            wrong.append(f"line {line}: {mine} may not import {theirs} ({target})")
        if within(name, "monitor.sources") and within(target, "detectors") and target not in SOURCES_MAY_USE:
            wrong.append(f"line {line}: sources use no detector ({target})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    """Tarjan's strongly connected components over module imports: each must be one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target, _ in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert not circles, circles


def test_no_module_holds_two_jobs() -> None:
    """Past about 400 lines a module holds two jobs; 450 is the hard limit."""
    lines = {name: len(path.read_text("utf-8").splitlines()) for name, path in modules().items()}
    long = {name: n for name, n in lines.items() if n > 450}
    assert not long, long


def test_every_module_says_why_it_exists() -> None:
    silent = sorted(name for name, path in modules().items()
                    if not ast.get_docstring(ast.parse(path.read_text("utf-8"))))
    assert not silent, silent
