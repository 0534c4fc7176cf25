"""Torch's Python meta kernels without importing `torch._dynamo`.

Many of torch's meta kernels (relu, tanh, add, batch norm, ...) are Python
references wrapped in `torch._disable_dynamo`, whose first call imports
`torch._dynamo` (about 1.2 s, more than all of shape analysis) just to mark the
function as one the compiler must not trace. Until that module is imported
nothing can be compiling, so the mark changes nothing: `install()` gives each
such wrapper among the meta kernels a stand-in that calls the function
directly while `torch._dynamo` is absent, and makes the mark torch's way as
soon as something else has imported it.

Torch caches the mark on the wrapped function as ``__dynamo_disable``; the
stand-in sits in that cache. A torch without this layout is left alone (the
import then costs what it costs).
"""

from __future__ import annotations

import sys
import threading
import types

import torch

_CACHE = "__dynamo_disable"  # the attribute torch's wrapper reads before importing torch._dynamo
_lock = threading.Lock()
_installed = False


class _UntilDynamo:
    """Calls `fn` directly until `torch._dynamo` is imported; from then on, as torch would."""

    def __init__(self, fn, recursive: bool) -> None:
        self.fn, self.recursive = fn, recursive

    def __call__(self, *args, **kwargs):
        dynamo = sys.modules.get("torch._dynamo")
        if dynamo is None or not hasattr(dynamo, "disable"):
            return self.fn(*args, **kwargs)
        disabled = dynamo.disable(self.fn, self.recursive, wrapping=False)
        setattr(self.fn, _CACHE, disabled)  # torch's own cache from now on
        return disabled(*args, **kwargs)


def install() -> None:
    """Puts the stand-in behind every dynamo-disabling wrapper among torch's meta kernels (once)."""
    global _installed
    with _lock:
        if _installed or "torch._dynamo" in sys.modules:
            return
        _installed = True
        wrapper_code = _wrapper_code()
        if wrapper_code is None:
            return
        for f in _wrappers(wrapper_code):
            fn, recursive = (cell.cell_contents for cell in f.__closure__)
            if getattr(fn, _CACHE, None) is None:
                setattr(fn, _CACHE, _UntilDynamo(fn, recursive))


def _wrapper_code():
    """The code object of torch's wrapper, or None when this torch wraps differently."""
    make = getattr(getattr(torch, "_compile", None), "_disable_dynamo", None)
    code = getattr(make(lambda: None), "__code__", None) if make is not None else None
    return code if code is not None and code.co_freevars == ("fn", "recursive") else None


def _wrappers(wrapper_code):
    """Torch's wrappers among the meta kernels and the functions they wrap or close over."""
    import torch._decomp
    import torch._refs  # noqa: F401  (the references: the meta kernels call some of them directly)

    stack = [f for table in torch._decomp.global_decomposition_table.values() for f in table.values()]
    stack += [f for name, module in list(sys.modules.items()) if name.startswith("torch._refs")
              for f in vars(module).values()]
    seen: set[int] = set()
    while stack:
        f = stack.pop()
        if not isinstance(f, types.FunctionType) or id(f) in seen:
            continue
        seen.add(id(f))
        if f.__code__ is wrapper_code:
            yield f
        stack.append(getattr(f, "__wrapped__", None))
        stack += [cell.cell_contents for cell in f.__closure__ or () if _filled(cell)]


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return False
    return True
