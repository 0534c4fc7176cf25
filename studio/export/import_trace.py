"""Tracing a module for import, and what the traced graph computes on the example inputs.

`trace` records the module's forward as a `torch.fx.GraphModule`: torch.nn
layers and studio's own layer modules stay whole (one ``call_module`` each,
also a user's subclass of a torch.nn layer that keeps its forward), every other
module is traced through, and each node keeps the path of the modules it was
called in (``node.meta["nn_module_stack"]``). A module holding a Hugging Face
``transformers`` model is traced with a tracer made of that library's own
where the installed transformers has one (`import_hf`).

Stacks of catalog layers are then opened up: a call of ``nn.TransformerEncoder``,
``nn.TransformerDecoder`` or ``nn.Transformer`` becomes the calls of its layers
(and its final norm) in order, with the masks passed to each.

`record` runs the graph once on the example inputs and keeps, for each node,
what it produced: a tensor's shape and dtype (and the tensor itself when it is
small, for masks), or the plain value (sizes, the numbers computed from them).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

from studio.errors import StudioError
from studio.export.import_hf import is_hugging_face, tracer_class
from studio.export.import_rules import is_leaf_layer, qualname

SMALL = 65_536  # tensors up to this many elements are kept whole (attention masks)


@dataclass(frozen=True)
class TensorInfo:
    """A traced tensor: shape and dtype, and its value when small."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    value: torch.Tensor | None = None


@dataclass(frozen=True)
class Call:
    """One call of a submodule while tracing.

    Attributes:
        id: its number (a module called twice has two calls).
        path: the module's path (``layer1.0``).
        module: the module.
        args: the forward's parameter names, each with the fx nodes passed for it.
    """

    id: int
    path: str
    module: nn.Module
    args: tuple[tuple[str, tuple[fx.Node, ...]], ...] = ()


class RefusedPart(StudioError):
    """A part of the module import cannot express; `scope` is the module calls it was made in, outermost first."""

    def __init__(self, message: str, scope: tuple[Call, ...]):
        super().__init__(message)
        self.scope = scope


class _Tracer(fx.Tracer):
    """Keeps catalog-expressible layers (and the paths in `leaves`) whole and traces through everything
    else, recording module calls.

    Every node gets ``node.meta["scope"]``: the calls it was made in,
    outermost first (for a layer's own call_module node, its call last).
    `failed` holds the calls a failure of tracing happened in.
    """

    def __init__(self, leaves: frozenset[str] = frozenset()):
        super().__init__()
        self.calls: list[Call] = []
        self.ids = iter(range(1, 1 << 62))
        self.leaves = leaves
        self.failed: tuple[Call, ...] | None = None

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return qualname in self.leaves or is_leaf_layer(m) or super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        self.calls.append(Call(next(self.ids), self.path_of_module(m), m, _arguments(m, args, kwargs)))
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception:
            if self.failed is None:  # the innermost call sees the failure first
                self.failed = tuple(self.calls)
            raise
        finally:
            self.calls.pop()

    def create_node(self, *args, **kwargs) -> fx.Node:
        node = super().create_node(*args, **kwargs)
        node.meta["scope"] = tuple(self.calls)
        return node


def _arguments(m: nn.Module, args, kwargs) -> tuple[tuple[str, tuple[fx.Node, ...]], ...]:
    """The forward's parameter names with the traced nodes passed for each (lists of tensors flattened)."""
    try:
        bound = inspect.signature(type(m).forward).bind(m, *args, **kwargs).arguments
    except (TypeError, ValueError):
        return ()
    out = []
    for name, value in list(bound.items())[1:]:
        values = value if isinstance(value, (list, tuple)) else (value,)
        nodes = tuple(v.node for v in values if isinstance(v, fx.Proxy))
        if nodes:
            out.append((name, nodes))
    return tuple(out)


def trace(module: nn.Module, inputs: tuple, leaves: frozenset[str] = frozenset()) -> fx.GraphModule:
    """The module's forward on example `inputs` as a GraphModule (dead code removed, stacks opened up), the
    submodules at the paths in `leaves` kept whole; RefusedPart (naming where it failed) if it cannot be traced."""
    if is_leaf_layer(module) or _Tracer().is_leaf_module(module, ""):
        gm = _single_layer(module, len(inputs))
    else:
        tracer = _tracer(module, leaves)
        try:
            gm = _fx(tracer, module, inputs)
        except StudioError:
            raise
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise RefusedPart(f"cannot trace {qualname(type(module))}: {first}. Its forward must not branch on "
                              f"tensor values or sizes (torch.fx symbolic tracing)", tracer.failed or ()) from None
    _open_stacks(gm)
    gm.graph.eliminate_dead_code()
    gm.recompile()
    return gm


def _fx(tracer: _Tracer, module: nn.Module, inputs: tuple) -> fx.GraphModule:
    tracer.record_stack_traces = True
    graph = tracer.trace_with(module, inputs) if hasattr(tracer, "trace_with") else tracer.trace(module)
    return fx.GraphModule(tracer.root, graph)


def _tracer(module: nn.Module, leaves: frozenset[str]) -> _Tracer:
    """Our tracer, made of Hugging Face's where the module holds a transformers model and the installed
    transformers has one (`import_hf`)."""
    cls = tracer_class(_Tracer) if any(is_hugging_face(m) for m in module.modules()) else None
    return (cls or _Tracer)(leaves)


def _single_layer(module: nn.Module, inputs: int) -> fx.GraphModule:
    """The graph of one call of a layer imported on its own (nn.Linear itself, say)."""
    name = type(module).__name__.lower()
    root = nn.Module()
    root.add_module(name, module)
    graph = fx.Graph()
    args = tuple(graph.placeholder(f"input_{i + 1}" if inputs > 1 else "input") for i in range(inputs))
    out = graph.call_module(name, args)
    out.meta["nn_module_stack"] = {name: (name, type(module))}
    out.meta["scope"] = (Call(0, name, module),)
    graph.output(out)
    gm = fx.GraphModule(root, graph)
    gm.meta["prefix"] = f"{name}."  # the layer's own state_dict keys lack it
    return gm


# --- stacks of layers ---------------------------------------------------------------

def _open_stacks(gm: fx.GraphModule) -> None:
    """Replaces calls of torch's Transformer containers by calls of their layers, until none is left."""
    changed = True
    while changed:
        changed = False
        for n in list(gm.graph.nodes):
            if n.op == "call_module":
                opener = _OPENERS.get(type(gm.get_submodule(n.target)))
                if opener is not None:
                    opener(gm, n)
                    changed = True


def _bound(module: nn.Module, n: fx.Node) -> dict:
    sig = inspect.signature(type(module).forward)
    return dict(sig.bind(None, *n.args, **n.kwargs).arguments, self=None)


def _call(gm: fx.GraphModule, n: fx.Node, target: str, args: tuple, kwargs: dict) -> fx.Node:
    """A call of submodule `target` before `n`, with n's module stack and source line."""
    with gm.graph.inserting_before(n):
        new = gm.graph.call_module(target, args, {k: v for k, v in kwargs.items() if v is not None})
    stack = dict(n.meta.get("nn_module_stack", {}))
    stack[target] = (target, type(gm.get_submodule(target)))
    new.meta["nn_module_stack"] = stack
    new.meta["stack_trace"] = n.meta.get("stack_trace")
    new.meta["scope"] = n.meta.get("scope", ())  # inside the container's call: the layers share its scope
    return new


def _chain(gm: fx.GraphModule, n: fx.Node, x, extra: tuple, kwargs: dict) -> fx.Node:
    stack = gm.get_submodule(n.target)
    for i in range(len(stack.layers)):
        x = _call(gm, n, f"{n.target}.layers.{i}", (x, *extra), kwargs)
    if stack.norm is not None:
        x = _call(gm, n, f"{n.target}.norm", (x,), {})
    return x


def _replace(gm: fx.GraphModule, n: fx.Node, value: fx.Node) -> None:
    n.replace_all_uses_with(value)
    gm.graph.erase_node(n)


def _open_encoder(gm: fx.GraphModule, n: fx.Node) -> None:
    b = _bound(gm.get_submodule(n.target), n)
    kwargs = {"src_mask": b.get("mask"), "src_key_padding_mask": b.get("src_key_padding_mask")}
    if b.get("is_causal"):
        kwargs["is_causal"] = True
    _replace(gm, n, _chain(gm, n, b["src"], (), kwargs))


_DECODER_KEYS = ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask")


def _open_decoder(gm: fx.GraphModule, n: fx.Node) -> None:
    b = _bound(gm.get_submodule(n.target), n)
    kwargs = {k: b.get(k) for k in _DECODER_KEYS}
    if b.get("tgt_is_causal"):
        kwargs["tgt_is_causal"] = True
    _replace(gm, n, _chain(gm, n, b["tgt"], (b["memory"],), kwargs))


def _open_transformer(gm: fx.GraphModule, n: fx.Node) -> None:
    b = _bound(gm.get_submodule(n.target), n)
    memory = _call(gm, n, f"{n.target}.encoder", (b["src"],),
                   {"mask": b.get("src_mask"), "src_key_padding_mask": b.get("src_key_padding_mask")})
    out = _call(gm, n, f"{n.target}.decoder", (b["tgt"], memory),
                {**{k: b.get(k) for k in _DECODER_KEYS},
                 "memory_key_padding_mask": b.get("memory_key_padding_mask")})
    _replace(gm, n, out)


_OPENERS = {nn.TransformerEncoder: _open_encoder, nn.TransformerDecoder: _open_decoder,
            nn.Transformer: _open_transformer}


# --- values on the example inputs ---------------------------------------------------------

class _Recorder(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule):
        super().__init__(gm)
        self.seen: dict[fx.Node, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.seen[n] = summary(result)
        return result


def record(gm: fx.GraphModule, inputs: tuple) -> dict[fx.Node, Any]:
    """What each node of `gm` gives on `inputs`: TensorInfo for tensors, plain values otherwise."""
    recorder = _Recorder(gm)
    with torch.no_grad():
        recorder.run(*inputs)
    return recorder.seen


def summary(value: Any) -> Any:
    """TensorInfo for a tensor (with its value when small), the same for the items of tuples and lists."""
    if isinstance(value, torch.Tensor):
        keep = value.detach().clone() if value.numel() <= SMALL else None
        return TensorInfo(tuple(value.shape), value.dtype, keep)
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (tuple, list)):
        return type(value)(summary(v) for v in value)
    return value
