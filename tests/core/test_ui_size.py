"""No god objects in the Qt side: every module of studio/ui reads at once, and so does every function.

A module holds at most `MAX_MODULE_LINES` lines and a function (from its
``def`` line to its last, docstring included) at most `MAX_FUNCTION_LINES`;
past that, split it along what it does (docs/architecture.md, "The document
in the window"). Counted on the source's syntax tree, so nothing is imported.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def oversized(package: Path) -> list[str]:
    """``path: N lines`` for each module of ``package`` over the limit, ``path:line name: N lines`` for each
    function over it."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(package.parent)
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{where}: {lines} lines")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_ui_module_or_function_is_too_long_to_read_at_once():
    found = oversized(ROOT / "studio" / "ui")
    assert not found, (f"modules over {MAX_MODULE_LINES} lines or functions over {MAX_FUNCTION_LINES}: "
                       f"split them by responsibility:\n" + "\n".join(found))


def test_the_count_sees_long_modules_and_long_functions(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    lines = [f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES)]
    method = "\n".join(f"    {x}" for x in lines)
    (package / "long_method.py").write_text(f"class A:\n    def f(self):\n{method}\n")
    (package / "fine.py").write_text("def f():\n" + "\n".join(lines[1:]) + "\n")  # exactly at the limit
    (package / "long_module.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert oversized(package) == [f"pkg/long_method.py:2 f: {MAX_FUNCTION_LINES + 1} lines",
                                  f"pkg/long_module.py: {MAX_MODULE_LINES + 1} lines"]
