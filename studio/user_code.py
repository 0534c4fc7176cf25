"""Loading the user's code: ``package.module:Class`` or ``path/to/file.py:Class`` (`studio import`, opaque nodes).

The name may also be a function that returns the module (``resnet18``,
``build_model``): model zoos and Hugging Face code build models that way.

A file is imported the way ``python path/to/file.py`` would run it: its own
folder comes first on ``sys.path`` while it loads (so ``import sibling``
finds ``path/to/sibling.py``), and modules already loaded from that folder
by an earlier import are loaded again, so edits made since are seen. The file
gets a module name of its own (never ``__main__``: its ``if __name__ ==
"__main__":`` part does not run). Importing runs the file's code.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from studio.errors import StudioError

_files = itertools.count()
_script_folders: set[Path] = set()  # every folder a file was imported from in this process


def from_script_folder(file: str | Path) -> bool:
    """True for a file inside a folder some user file was imported from (its siblings: not importable by
    module name once that import is over)."""
    try:
        path = Path(file).resolve()
    except OSError:
        return False
    return any(folder == path.parent or folder in path.parents for folder in _script_folders)


def load_class(spec: str) -> Callable[..., Any]:
    """The class (or module-building function) named by ``module.path:Class`` or ``file.py:Class``.

    ``Outer.Inner`` is allowed.
    """
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise StudioError(f"'{spec}' does not name a class: write package.module:Class or path/to/file.py:Class")
    try:
        mod = _load_file(Path(where)) if is_file_spec(where) else importlib.import_module(where)
    except StudioError:
        raise
    except Exception as e:
        raise StudioError(f"cannot import {where}: {type(e).__name__}: {e}") from None
    obj: Any = mod
    for part in name.split("."):
        if not hasattr(obj, part):
            raise StudioError(f"{where} has no '{name}'")
        obj = getattr(obj, part)
    if not callable(obj):
        raise StudioError(f"{spec} is not a class or a function that builds a module")
    return obj


def is_file_spec(where: str) -> bool:
    """True when the part before ``:`` is a file path rather than a dotted module name."""
    return where.endswith(".py") or "/" in where or "\\" in where


def _load_file(path: Path):
    if not path.is_file():
        raise StudioError(f"{path}: no such file")
    with script_folder(path.resolve().parent):
        unit = importlib.util.spec_from_file_location(f"_studio_import_{next(_files)}_{path.stem}", path)
        mod = importlib.util.module_from_spec(unit)
        sys.modules[unit.name] = mod  # dataclasses and pickling look modules up by name
        unit.loader.exec_module(mod)
    return mod


@contextmanager
def script_folder(folder: Path) -> Iterator[None]:
    """``folder`` first on sys.path, as for ``python folder/file.py``; its stale modules forgotten first."""
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None)
        if file and not name.startswith("_studio_import_") and _inside(Path(file), folder):
            del sys.modules[name]
    _script_folders.add(folder)
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        try:
            sys.path.remove(entry)
        except ValueError:  # the file removed it itself
            pass


def _inside(file: Path, folder: Path) -> bool:
    try:
        return file.resolve().parent == folder
    except OSError:
        return False
