"""Generated source for "Module" nodes: an import of the user's own class, said plainly.

A "Module" node runs code of the user's (docs/architecture.md, "Code a project
runs"), so the generated file cannot stand alone: it imports that class
(``from spectral import SpectralGate``, the folder of a file target on
``sys.path`` being the reader's job) under a comment that says so.
"""

from __future__ import annotations

from pathlib import Path

from studio.catalog.opaque import arguments
from studio.user_code import is_file_spec


def imported(target: str, taken: set[str]) -> tuple[str, str]:
    """(the expression naming the class in the file, its import line); the name is added to `taken`."""
    where, _, qualname = target.rpartition(":")
    top = qualname.split(".")[0]
    module = Path(where).stem if is_file_spec(where) else where
    alias, i = top, 2
    while alias in taken:
        alias, i = f"{top}{i}", i + 1
    taken.add(alias)
    line = f"from {module} import {top}" + (f" as {alias}" if alias != top else "")
    if is_file_spec(where):
        line += f"  # {where}: its folder must be on sys.path"
    return alias + qualname[len(top):], line


def constructor_arguments(args: str) -> dict:
    """The ``args`` JSON as the keywords `studio.compile.classes` writes (positional ones as ``"*"``)."""
    positional, keywords = arguments(args)
    return {"*": ", ".join(repr(a) for a in positional)} if positional else dict(keywords)


def header(lines: list[str]) -> str:
    """The import block of the user's classes, with the comment that the file needs them."""
    return "\n".join(["# Not generated: these classes are your own code, which this file imports and runs;",
                      "# it runs only where that code can be imported.", *dict.fromkeys(lines)])
