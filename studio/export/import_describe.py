"""How the importer names a traced call in its messages: as the user wrote it, with its file and line."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import fx, nn


def describe(gm: fx.GraphModule, n: fx.Node) -> str:
    """A traced call as the user wrote it, with its file and line."""
    if n.op == "call_module":
        return f"'self.{n.target}' ({type(gm.get_submodule(n.target)).__name__})"
    if n.op == "call_method":
        what = f"'.{n.target}()' (a tensor method)"
    elif n.op == "call_function":
        what = f"'{_function_name(n.target)}'"
    elif n.op == "get_attr":
        what = f"'self.{n.target}'"
    else:
        what = f"'{n.name}'"
    line = source_line(n)
    return f"{what}{' at ' + line if line else ''}"


def _function_name(fn) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__name__", repr(fn))
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch.nn.functional") or name in dir(nn.functional) and module != "torch":
        return f"torch.nn.functional.{name}"
    return f"torch.{name}" if not module or module.startswith("torch") else f"{module}.{name}"


def source_line(n: fx.Node) -> str:
    """``file:line`` of the user's code that made the call (torch's own frames skipped)."""
    ours = (str(Path(torch.__file__).parent), str(Path(__file__).parents[1]))
    for line in reversed((n.stack_trace or "").strip().splitlines()):
        line = line.strip()
        if line.startswith('File "') and not line[6:].startswith(ours):
            return line[6:].replace('", line ', ":").split(",")[0]
    return ""
