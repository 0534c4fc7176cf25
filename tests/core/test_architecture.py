"""The import contracts of pyproject.toml: the core never imports Qt, and layers import downward."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
