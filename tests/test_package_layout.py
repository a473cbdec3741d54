"""The reporting package reads in one direction (issue 35): runs, then rows and tables, then the renderers
(Markdown, HTML, plots), then the commands that write reports. A module that imports one that imports it back
makes every change to either a change to both."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "seq2seq" / "reporting"


def reporting_imports() -> dict[str, set[str]]:
    """Each module of seq2seq.reporting -> the modules of the package it imports (lazily inside functions too)."""
    graph = {}
    for path in sorted(PACKAGE.glob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "seq2seq.reporting":
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seq2seq.reporting."):
                found.add(node.module.split(".")[2])
        graph[path.stem] = found
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path from a module back to itself, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for child in sorted(graph.get(node, ())):
            if state.get(child) == "open":
                return path[path.index(child):] + [child]
            if child not in state and (cycle := visit(child, path + [child])):
                return cycle
        state[node] = "done"
        return None

    return next((cycle for node in sorted(graph) if node not in state and (cycle := visit(node, [node]))), None)


def test_the_reporting_package_has_no_import_circle():
    cycle = find_cycle(reporting_imports())
    assert cycle is None, "import circle in seq2seq/reporting: " + " -> ".join(cycle)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": set(), "c": {"b"}}, None),
])
def test_the_cycle_finder_finds_circles_and_only_circles(graph, expected):
    assert find_cycle(graph) == expected
