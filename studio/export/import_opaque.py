"""Keeping what import cannot express as opaque "Module" nodes that run the original code.

When tracing fails inside a submodule of the user's own code (its forward
branches on values, say), or a call inside one has no catalog form, the
importer keeps that submodule whole: the smallest one of the user's own
classes around the failure (`smallest_part`) becomes a leaf of the trace and
one "Module" node (`studio.catalog.opaque`) that builds the same class with
the same constructor arguments; its weights keep their state_dict keys. A
torch.nn layer the catalog has no form for (``nn.PixelUnshuffle``,
``nn.RMSNorm``, a LayerNorm over two dimensions), wherever it is called, is
kept the same way on its own (target ``torch.nn:PixelUnshuffle``). Any other
failure in the root module's own forward is still refused
(docs/architecture.md, "Code a project runs").

The constructor arguments are those the class was called with, recorded
while `studio import` builds the module (`recording_arguments`); for a module
built elsewhere, the attributes named like its constructor's parameters. A
torch layer's are read from its attributes (defaults left out) and checked by
building it again: same ``repr`` and state_dict shapes.
"""

from __future__ import annotations

import inspect
import json
import sys
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import fx, nn

from studio.errors import StudioError
from studio.export.import_rules import Mapped, Unsupported
from studio.export.import_trace import Call, TensorInfo, summary
from studio.user_code import from_script_folder

_made: "weakref.WeakKeyDictionary[nn.Module, str]" = weakref.WeakKeyDictionary()  # module -> its arguments' JSON


@contextmanager
def recording_arguments() -> Iterator[None]:
    """Records the arguments of every nn.Module constructed inside (its outermost ``__init__`` call)."""
    def profile(frame, event, _arg):
        code = frame.f_code
        if event != "call" or code.co_name != "__init__" or not code.co_argcount:
            return
        module = frame.f_locals.get(code.co_varnames[0])
        if isinstance(module, nn.Module) and module not in _made:
            _made[module] = _arguments(frame)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _arguments(frame) -> str | None:
    """The JSON of an ``__init__`` frame's arguments (a list when it takes ``*args``), None if not plain values."""
    code, values = frame.f_code, frame.f_locals
    names = code.co_varnames[1:code.co_argcount]
    kwonly = {n: values[n] for n in code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]}
    index, star = code.co_argcount + code.co_kwonlyargcount, ()
    if code.co_flags & inspect.CO_VARARGS:
        star, index = tuple(values[code.co_varnames[index]]), index + 1
    more = dict(values[code.co_varnames[index]]) if code.co_flags & inspect.CO_VARKEYWORDS else {}
    if star:
        value = None if kwonly or more else [config_json(values[n]) for n in names] + list(star)
    else:
        value = {k: config_json(v) for k, v in {**{n: values[n] for n in names}, **kwonly, **more}.items()}
    return json.dumps(value) if value is not None and _plain(value) else None


def config_json(value: Any) -> Any:
    """A Hugging Face configuration as the plain object of its settings that differ from the defaults
    (with ``model_type``, which `studio.catalog.opaque` builds it again from); any other value as it is."""
    if type(value).__module__.startswith("transformers.") and hasattr(value, "to_json_string"):
        settings = json.loads(value.to_json_string(use_diff=True))  # JSON's own form: id2label keys as strings
        return {k: v for k, v in settings.items() if k != "transformers_version"}
    return value


def _plain(value: Any) -> bool:
    """True for what JSON holds as it is: numbers, strings, booleans, None, lists and string-keyed objects."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


# --- which part, and how it is rebuilt ---------------------------------------------

def smallest_part(scope: tuple[Call, ...], kept: dict) -> Call | None:
    """The part to keep whole for a failure in `scope`: the failing torch layer itself when it can be built
    again, else the innermost call of the user's own module class not kept already; None at the top level."""
    for call in reversed(scope):
        if not call.path or call.path in kept:
            continue
        if call is scope[-1] and torch_code(call.module) is not None:
            return call
        if not type(call.module).__module__.startswith(("torch.", "studio.")):
            return call
    return None


def code_of(call: Call, reason: str) -> tuple[str, str]:
    """(target, constructor arguments as JSON) that build `call`'s module again; StudioError if they are unknown."""
    cls = type(call.module)
    where = f"'self.{call.path}' ({cls.__name__})"
    torch_layer = torch_code(call.module)
    if torch_layer is not None:
        return torch_layer
    if "<locals>" in cls.__qualname__:
        raise StudioError(f"{reason}; {where} cannot be kept as it is: its class is defined inside a function")
    args = _made.get(call.module) or _from_attributes(call.module)
    if args is None:
        raise StudioError(f"{reason}; {where} cannot be kept as it is: its constructor arguments are not plain "
                          f"values (numbers, strings, lists), or unknown")
    return target_of(cls), args


def target_of(cls: type) -> str:
    """``package.module:Class`` for a class of an importable module, ``/abs/path/file.py:Class`` otherwise."""
    module = sys.modules.get(cls.__module__)
    if cls.__module__.startswith("_studio_import_") or cls.__module__ == "__main__" or module is None or \
            from_script_folder(inspect.getfile(cls)):  # a sibling of the imported file: found by its path
        return f"{Path(inspect.getfile(cls)).resolve()}:{cls.__qualname__}"
    return f"{cls.__module__}:{cls.__qualname__}"


def _from_attributes(module: nn.Module) -> str | None:
    """The constructor's parameters read back from attributes of the same name (defaults may be left out)."""
    params = _init_parameters(module)
    if params is None:
        return None
    found = {}
    for p in params:
        value = getattr(module, p.name, None) if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) else None
        value = config_json(value)
        if _plain(value) and value is not None:
            found[p.name] = value
        elif p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            return None
    return json.dumps(found)


# --- torch's own layers ------------------------------------------------------------------

def torch_code(module: nn.Module) -> tuple[str, str] | None:
    """(``torch.nn:Class``, its arguments) for a torch.nn layer that builds again the same; None otherwise."""
    cls = type(module)
    if getattr(nn, cls.__name__, None) is not cls or not cls.__module__.startswith("torch.nn.modules."):
        return None
    if isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        return None
    for args in (_torch_arguments(module), _made.get(module)):
        if args is not None and _rebuilds(module, args):
            return f"torch.nn:{cls.__name__}", args
    return None


def _torch_arguments(module: nn.Module) -> str | None:
    """A torch layer's constructor arguments from its attributes, the defaults left out; None when one is
    missing or not a plain value (an activation function other than the default, say).

    ``bias`` (a tensor or None where the constructor takes a flag) is read as
    whether there is one; ``device`` and ``dtype`` are left to the weights.
    """
    params = _init_parameters(module)
    if params is None:
        return None
    found = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype"):
            continue
        value = getattr(module, p.name, p.default)
        if isinstance(p.default, bool) and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
        value = list(value) if isinstance(value, tuple) else value
        if value is inspect.Parameter.empty or value is not p.default and not _plain(value):
            return None
        if value is p.default or value == p.default:
            continue
        found[p.name] = value
    return json.dumps(found)


def _rebuilds(module: nn.Module, args: str) -> bool:
    """True when the class built with `args` (on the meta device) prints as the layer does and has its weight shapes."""
    value = json.loads(args)
    try:
        with torch.device("meta"):
            again = type(module)(*value) if isinstance(value, list) else type(module)(**value)
    except Exception:
        return False
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    return repr(again) == repr(module) and shapes == {k: tuple(v.shape) for k, v in again.state_dict().items()}


def _init_parameters(module: nn.Module) -> list[inspect.Parameter] | None:
    """The parameters of the module's constructor after ``self``; None when it has no readable signature."""
    try:
        return list(inspect.signature(type(module).__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return None


def opaque_mapped(n: fx.Node, code: tuple[str, str], seen: Any) -> tuple[Mapped, tuple[str, ...]]:
    """The "Module" node for the call `n` of a kept module (its tensor arguments in, its tensors out), and
    the names of its outputs when it returns a Hugging Face ``ModelOutput`` (empty otherwise)."""
    inputs = [*n.args, *n.kwargs.values()]
    if not inputs or not all(isinstance(v, fx.Node) for v in inputs):
        raise Unsupported("a call that passes values other than tensors to the module")
    fields: tuple[str, ...] = ()
    if hasattr(seen, "to_tuple"):  # the catalog's build gives the node these outputs (studio.catalog.opaque)
        fields = tuple(k for k, v in seen.items() if isinstance(v, torch.Tensor))
        seen = tuple(summary(seen[k]) for k in fields)
    results = seen if isinstance(seen, (tuple, list)) else (seen,)
    if not results or not all(isinstance(r, TensorInfo) for r in results):
        raise Unsupported("a module that returns something other than a tensor or a tuple of tensors")
    params = {"target": code[0], "args": code[1]}
    params.update({k: v for k, v in (("inputs", len(inputs)), ("outputs", len(results))) if v != 1})
    return Mapped("Module", params, inputs), fields
