"""No two modules of the training package import each other, directly or round a loop.

Imports inside functions count (a late import is how a loop usually hides);
imports under ``if TYPE_CHECKING:`` do not (they never run). A name imported
from a package counts as its submodule when there is one.
"""

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, modules: set[str]) -> set[str]:
    typing_only = {id(node) for test in ast.walk(tree)
                   if isinstance(test, ast.If) and "TYPE_CHECKING" in ast.unparse(test.test)
                   for stmt in test.body for node in ast.walk(stmt)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                         for a in node.names)
    return names & modules


def import_graph(package: Path, root: Path = ROOT) -> nx.DiGraph:
    """Module -> the modules of ``package`` (a folder under ``root``) it imports, anywhere in its code."""
    paths = {_module_name(p, root): p for p in package.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in paths.items():
        graph.add_node(name)
        graph.add_edges_from((name, other) for other in _imported(ast.parse(path.read_text()), set(paths))
                             if other != name)
    return graph


def test_the_training_package_has_no_import_loops():
    loops = [sorted(group) for group in nx.strongly_connected_components(import_graph(ROOT / "studio" / "train"))
             if len(group) > 1]
    assert not loops, f"modules that import each other: {loops}"


def test_the_check_sees_a_loop_through_a_late_import_and_not_a_typing_one(tmp_path):
    package = tmp_path / "studio" / "train"
    package.mkdir(parents=True)
    (package / "a.py").write_text("from studio.train import b\n")
    (package / "b.py").write_text("def f():\n    from studio.train.a import x\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from studio.train import a\n")
    graph = import_graph(package, tmp_path)
    assert set(graph.edges) == {("studio.train.a", "studio.train.b"), ("studio.train.b", "studio.train.a")}
