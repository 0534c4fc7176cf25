"""Running a module on the example inputs of an import, and saying plainly why they do not fit.

`run_checked` calls the module once (eval mode, no gradients). When that
fails, the message names the layer that failed (its path and type, found by
hooks on every submodule) and what it expected, in one line: ``the input
shape 1,28,28 (float) does not fit Net: layer 'conv1' (Conv2d) expects 3
channels, got 1; give the input shape 3,28,28``. Without a layer to blame (a
``view`` in the module's own forward, say) it names the line of the module's
code instead. The error is an `InputError` (exit code 2 on the command line).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.errors import InputError

_OURS = (str(Path(torch.__file__).parent), str(Path(__file__).parents[1]))


def describe(inputs: tuple[torch.Tensor, ...]) -> str:
    """``3,32,32 (float)`` or ``10;10 (long)``: the sample shapes and value kind, as the user gives them."""
    shapes = ";".join(",".join(str(s) for s in x.shape[1:]) for x in inputs)
    kinds = {("float" if x.is_floating_point() else "long") for x in inputs}
    return f"{shapes} ({'/'.join(sorted(kinds))})"


def run_checked(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> Any:
    """``module(*inputs)``; InputError naming the failing layer and what it expected."""
    names = {m: name for name, m in module.named_modules()}
    stack: list[tuple[nn.Module, tuple]] = []

    def enter(m, args) -> None:
        stack.append((m, args))

    def leave(m, args, out) -> None:  # returns None: a hook's return value would replace the output
        stack.pop()

    handles = [h for m in names for h in (m.register_forward_pre_hook(enter), m.register_forward_hook(leave))]
    try:
        with torch.no_grad():
            return module(*inputs)
    except Exception as e:
        where = _blame(stack, names, inputs, e) if stack else _line(e)
        raise InputError(f"the input shape {describe(inputs)} does not fit {type(module).__name__}: "
                         f"{where}") from None
    finally:
        for h in handles:
            h.remove()


def _blame(stack, names, inputs, error: Exception) -> str:
    """The innermost layer running when `error` was raised, and what it expected."""
    layer, args = stack[-1]
    label = f"layer '{names[layer] or type(layer).__name__}' ({type(layer).__name__})"
    x = args[0] if args and isinstance(args[0], torch.Tensor) else None
    if x is None:
        return f"{label} fails: {_first_line(error)}"
    expected = _expectation(layer, x)
    if expected is None:
        if not type(layer).__module__.startswith("torch."):  # the module's own code: name its line
            return _line(error)
        return f"{label} fails on an input of shape {_shape(x)}: {_first_line(error)}"
    text, fixed = expected
    hint = ""
    if fixed is not None and len(inputs) == 1 and x is inputs[0]:  # only the input itself can be fixed by the user
        hint = f"; give the input shape {','.join(str(s) for s in fixed)}"
    return f"{label} {text}{hint}"


def _expectation(layer: nn.Module, x: torch.Tensor) -> tuple[str, Any] | None:
    """(what `layer` expects and got, the sample shape that would fit or None); None when unknown."""
    sample = tuple(x.shape[1:])
    ids = not x.is_floating_point()
    if isinstance(layer, (nn.Embedding, nn.EmbeddingBag)):
        return ("takes token ids, got float values; give the dtype long", None) if not ids else None
    if ids and any(p.is_floating_point() for p in layer.parameters(recurse=False)):
        return "takes float values, got token ids; give the dtype float", None
    if isinstance(layer, nn.modules.conv._ConvNd):
        dims = len(layer.kernel_size)
        if x.dim() != dims + 2:
            return f"expects {dims + 1} sizes per sample (channels and {dims} spatial), got {_shape(x)}", None
        return (f"expects {layer.in_channels} channels, got {sample[0]}",
                (layer.in_channels, *sample[1:]))
    channels = getattr(layer, "num_features", None) or getattr(layer, "num_channels", None)
    if isinstance(layer, (nn.modules.batchnorm._NormBase, nn.GroupNorm)) and x.dim() >= 2:
        return f"expects {channels} channels, got {sample[0] if sample else 0}", (channels, *sample[1:])
    last = {nn.Linear: "in_features", nn.RNNBase: "input_size"}
    for kind, attr in last.items():
        if isinstance(layer, kind):
            size = getattr(layer, attr)
            if isinstance(layer, nn.RNNBase) and x.dim() != 3:
                return f"expects a sequence of {size} features per step (2 sizes per sample), got {_shape(x)}", None
            return f"expects {size} features in the last dimension, got {sample[-1] if sample else 0}", \
                (*sample[:-1], size)
    if isinstance(layer, nn.LayerNorm):
        want = tuple(layer.normalized_shape)
        return f"expects the last sizes {_fmt(want)}, got {_shape(x)}", (*sample[:len(sample) - len(want)], *want)
    return None


def _line(error: Exception) -> str:
    """Where in the module's own code `error` came from (torch's frames skipped)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(_OURS)]
    place = f"{frames[-1].filename}:{frames[-1].lineno} fails: " if frames else ""
    return f"{place}{_first_line(error)}"


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _shape(x: torch.Tensor) -> str:
    return _fmt(tuple(x.shape[1:]))


def _fmt(shape: tuple) -> str:
    return "×".join(str(s) for s in shape) or "scalar"
