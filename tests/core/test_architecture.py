"""The import contracts of pyproject.toml: the core never imports Qt, and layers import downward.

Also the size rule of issue 23: no module under studio/ over 400 lines, no function over 40.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def test_import_contracts_hold():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    out = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 2 kept, 0 broken" in out.stdout


def test_core_imports_without_qt():
    code = ("import sys, studio.catalog, studio.graph, studio.compile, studio.presets, studio.cli; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'studio.ui'))]; "
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_code_finds_a_networks_ends_by_role_not_by_type_name():
    """Only the catalog names the Input and Output types; other code asks a node's role."""
    import re

    named = [f"{path.relative_to(ROOT)}:{number}"
             for path in (ROOT / "studio").rglob("*.py") if "catalog" not in path.parts
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"[\"'](Input|Output)[\"']", line)]
    assert not named, named


def oversized(text: str) -> list[str]:
    """What in one module's source breaks the size rule: its length, and each function too long.

    A function's length runs from its ``def`` line to its last line (decorators
    aside; a nested function counts in its own right and in its parent's).
    """
    found = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{lines} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{node.name}() {length} lines")
    return found


def test_no_module_over_400_lines_and_no_function_over_40():
    offenders = {}
    for path in sorted((ROOT / "studio").rglob("*.py")):
        found = oversized(path.read_text(encoding="utf-8"))
        if found:
            offenders[path.relative_to(ROOT).as_posix()] = found
    assert not offenders, f"split these along their responsibilities: {offenders}"


def test_the_size_rule_sees_a_long_module_and_a_long_function():
    long_function = "def f():\n" + "    x = 1\n" * 40
    assert oversized(long_function) == ["f() 41 lines"]
    assert oversized("def f():\n" + "    x = 1\n" * 39) == []
    assert oversized("x = 1\n" * 401) == ["401 lines"]
    assert oversized("x = 1\n" * 400) == []
