"""Which code named in a project this user has agreed to run (docs/architecture.md, "Code a project runs").

An opaque "Module" node names a class (``path/file.py:Class`` or
``package.module:Class``) and its constructor arguments; building it imports
and runs that code. Opening a project must never do that silently, so the
code of such a node is identified by a key: a hash of the target, its
arguments and, for a file, the file's absolute path and contents and those of
the modules of its folder it imports (an edited file, or an edited sibling it
imports, needs trust again). torch's own layers (``torch.nn:PixelUnshuffle``, kept
by import where the catalog has no form for them) are not the user's code:
they are trusted without asking. Otherwise a key is trusted when:

* it is in this user's trust list (``<app data>/NetworkStudio/trusted_code.json``,
  or the file ``STUDIO_TRUST_FILE`` names): `studio import` records the code it
  imported, and the window records what the user accepted;
* or it is allowed for this process and the processes it starts (training
  children, torchrun workers): ``studio ... --trust-code``, or an import in
  progress. These keys travel in the environment variable ``STUDIO_TRUSTED_CODE``.

Qt-free; the catalog's build of a "Module" node asks `require` first.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Iterable

from studio.errors import StudioError
from studio.files import write_atomic

ENV_ALLOWED = "STUDIO_TRUSTED_CODE"
ENV_ALL = "STUDIO_TRUST_ALL_CODE"
ENV_FILE = "STUDIO_TRUST_FILE"
APP_FOLDER = "NetworkStudio"  # the folder studio.ui.app_dirs uses

Code = tuple[str, str]  # (target, constructor arguments as JSON)


class UntrustedCode(StudioError):
    """A project names code this user has not agreed to run."""

    exit_code = 2


def code_key(target: str, args: str) -> str:
    """The key of one piece of code: target, arguments and, for a file, its absolute path and contents, and
    the contents of the modules of its folder it imports (`own_modules`)."""
    where = target.rpartition(":")[0]
    digest = hashlib.sha256(json.dumps([target, args]).encode())
    file = _file_of(where)
    if file is not None:
        digest.update(str(file).encode())
        for path in own_modules(file):
            if path != file:
                digest.update(f"\0{path.relative_to(file.parent)}\0".encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"\0missing")
    return digest.hexdigest()


def own_modules(file: Path) -> list[Path]:
    """`file` and the modules of its folder it imports, theirs too (read, never run), the file first.

    A file runs with its folder first on ``sys.path`` (`studio.user_code`), so
    ``import blocks`` or ``from layers.attention import X`` there loads the
    user's own ``blocks.py`` or ``layers/attention.py``: code this key covers.
    """
    found, todo = [file], [file]
    while todo:
        current = todo.pop()
        try:
            tree = ast.parse(current.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for base, name in _imports(tree, current, file.parent):
            for path in _module_files(base, name):
                if path not in found and file.parent in path.parents:
                    found.append(path)
                    todo.append(path)
    return found


def _imports(tree: ast.AST, current: Path, folder: Path) -> Iterable[tuple[Path, str]]:
    """(folder it is found from, dotted name) of each module an import statement may load."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((folder, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level > len(current.parents):
                continue
            base = folder if not node.level else current.parents[node.level - 1]
            module = node.module or ""
            yield base, module
            yield from ((base, f"{module}.{a.name}".strip(".")) for a in node.names)


def _module_files(base: Path, name: str) -> list[Path]:
    """The files under `base` that importing `name` runs: each package's ``__init__.py``, then the module."""
    files, path = [], base
    for part in [p for p in name.split(".") if p]:
        path = path / part
        for candidate in (path / "__init__.py", path.with_suffix(".py")):
            if candidate.is_file():
                files.append(candidate.resolve())
    return files


def _file_of(where: str) -> Path | None:
    if where.endswith(".py") or "/" in where or "\\" in where:
        return Path(where).expanduser().resolve()
    return None


def is_trusted(code: Code) -> bool:
    """True when this process may run `code` (allowed here, or in the user's trust list)."""
    if os.environ.get(ENV_ALL) == "1" or is_torch_layer(code[0]):
        return True
    key = code_key(*code)
    return key in _allowed() or key in _stored()


def is_torch_layer(target: str) -> bool:
    """True for ``torch.nn:Class`` naming one of torch's layer classes: building it runs only torch's code.

    Nothing else under torch is trusted this way (``torch.hub:load`` would fetch and run code).
    """
    where, _, name = target.rpartition(":")
    if where != "torch.nn" or not name.isidentifier():
        return False
    from torch import nn  # here: most projects name no such code, and the CLI starts without torch

    cls = getattr(nn, name, None)
    return isinstance(cls, type) and issubclass(cls, nn.Module) and cls.__module__.startswith("torch.nn.modules.")


def untrusted(codes: Iterable[Code]) -> list[Code]:
    """The codes among `codes` this process may not run, each once, in order."""
    return [c for c in dict.fromkeys(codes) if not is_trusted(c)]


def require(code: Code) -> None:
    """UntrustedCode unless `code` may run (called before any of it is imported)."""
    if not is_trusted(code):
        raise UntrustedCode(refusal([code]))


def refusal(codes: list[Code]) -> str:
    """One line: what would run, and how to allow it."""
    named = ", ".join(dict.fromkeys(target for target, _ in codes))
    return (f"this project runs code from {named}, which you have not trusted on this machine; "
            f"run again with --trust-code if you trust it")


def allow(codes: Iterable[Code]) -> None:
    """Lets this process and the processes it starts run `codes` (nothing is written)."""
    keys = dict.fromkeys([*_allowed(), *(code_key(*c) for c in codes)])
    os.environ[ENV_ALLOWED] = ",".join(keys)


def allow_all() -> None:
    """Lets this process and its children run any code a project names (``--trust-code``)."""
    os.environ[ENV_ALL] = "1"


def remember(codes: Iterable[Code]) -> None:
    """Adds `codes` to this user's trust list, so later runs on this machine need no question."""
    stored = _stored()
    for target, args in ((t, a) for t, a in codes if not is_torch_layer(t)):  # trusted anyway
        stored[code_key(target, args)] = {"target": target, "args": args}
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"format": 1, "trusted": stored}, indent=1), what="the trusted-code list")


def store_path() -> Path:
    """The trust list: ``STUDIO_TRUST_FILE``, else ``trusted_code.json`` in the app's per-user data folder."""
    if os.environ.get(ENV_FILE):
        return Path(os.environ[ENV_FILE])
    return _data_dir() / "trusted_code.json"


def _data_dir() -> Path:
    """The folder Qt's GenericDataLocation gives (studio.ui.app_dirs), found without Qt."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_FOLDER


def _allowed() -> list[str]:
    return [k for k in os.environ.get(ENV_ALLOWED, "").split(",") if k]


def _stored() -> dict:
    try:
        data = json.loads(store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no list yet, or an unreadable one: nothing is trusted
    trusted = data.get("trusted") if isinstance(data, dict) else None
    return dict(trusted) if isinstance(trusted, dict) else {}
