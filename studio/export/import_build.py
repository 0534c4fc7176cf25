"""Building a network from a traced module: one catalog node per call, wired as the data flows.

`Builder` walks the traced graph once, giving each fx node a value
(`import_values`: a node's output, a time-major tensor, part of a recurrent
layer's result, a parameter, a mask, or a plain value).

Each node added is named after the fx node (``layer1.0.conv1`` ->
``layer1_0_conv1``) and `sources` records which of the module's state_dict
entries hold its weights. A call the catalog cannot express raises
StudioError naming the call and its line.
"""

from __future__ import annotations

import inspect
import operator
import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from studio import catalog
from studio.export.import_functions import FUNCTIONS, METHODS, SHAPE_METHODS
from studio.export.import_opaque import opaque_mapped
from studio.export.import_rules import (BATCH_FIRST, PASS, RAW_RNN, Mapped, Unsupported, batch_first, clean_params,
                                        map_module)
from studio.export.import_params import PARAMETER_METHODS, PARAMETER_RULES
from studio.export.import_describe import describe
from studio.export.import_sequences import (is_causal, is_swap, joined_directions, mask_only, recurrent_use,
                                           sequence_arguments)
from studio.export.import_sizes import Sizes
from studio.export.import_trace import RefusedPart
from studio.export.import_values import Mask, Out, Param, Recurrent, Results, Several, TimeMajor
from studio.graph.network import Network

SPACING = 200.0


class Builder:
    """Walks the traced graph once, adding a catalog node (and its edges) per call.

    Attributes:
        net: the network being filled.
        sources: node id -> {local key: the module's state_dict key}; a local key
            is the key inside the original layer (``weight``, ``bias_ih_l0``),
            or the role of a parameter the node now owns.
    """

    def __init__(self, gm: fx.GraphModule, net: Network, seen: dict[fx.Node, Any]):
        self.gm, self.net = gm, net
        self.sizes = Sizes(seen)
        self.values: dict[fx.Node, Any] = {}
        self.sources: dict[str, dict[str, str]] = {}
        self.outputs: dict[str, str] = {}  # raw recurrent node -> the output its users chose
        self.recurrent: dict[str, nn.RNNBase] = {}  # raw recurrent node -> its layer
        self.called: set[str] = set()
        self.masks = mask_only(gm)
        self.origin: dict[str, tuple[fx.Node, str]] = {}  # node id -> (the traced call it was made for, base name)
        self.opaque: dict[str, tuple[str, str]] = {}  # module path kept whole -> its (target, args) (import_opaque)
        self.index = 0

    def build(self) -> None:
        """Adds every node; StudioError naming the first call that has no catalog form."""
        for n in self.gm.graph.nodes:
            try:
                self._visit(n)
            except Unsupported as e:
                raise RefusedPart(f"cannot import {describe(self.gm, n)}: {e}. Replace it with layers the "
                                  f"catalog has (studio's palette), or leave it out of the imported part",
                                  n.meta.get("scope", ())) from None

    def _visit(self, n: fx.Node) -> None:
        if n.op == "placeholder":
            info = self.sizes.info(n)
            if info is None:
                raise Unsupported("an input that is not a tensor")
            dtype = "float" if info.dtype.is_floating_point else "long"
            self.values[n] = (self._add(catalog.INPUT, n.name, {"shape": list(info.shape[1:]), "dtype": dtype}), "out")
        elif n.op == "get_attr":
            self.values[n] = Mask(is_causal(self.sizes.info(n))) if n in self.masks else Param(n.target)
        elif n.op == "call_module":
            self._module(n)
        elif n.op in ("call_function", "call_method"):
            self._call(n)
        elif n.op == "output":
            self._outputs(n.args[0])

    # --- modules -----------------------------------------------------------------
    def _module(self, n: fx.Node) -> None:
        sub = self.gm.get_submodule(n.target)
        if n.target in self.called and any(True for _ in sub.parameters()):
            raise Unsupported("a layer with weights called twice (shared weights are not supported)")
        self.called.add(n.target)
        if n.target in self.opaque:
            self._kept(n, sub)
            return
        if isinstance(sub, BATCH_FIRST):
            self._sequence_layer(n, sub)
            return
        if type(sub) is nn.Identity:  # a placeholder layer: nothing to compute
            self.values[n] = self._carried(n.args[0])
            return
        mapped = map_module(sub, list(n.args) + list(n.kwargs.values()))
        nid = self._result(n, mapped)
        self._owns(nid, n.target, sub)

    def _kept(self, n: fx.Node, sub: nn.Module) -> None:
        """A module kept as it is: one "Module" node running its code (import_opaque)."""
        mapped, fields = opaque_mapped(n, self.opaque[n.target], self.sizes.seen.get(n))
        nid = self._place(n, mapped)
        count = mapped.params.get("outputs", 1)
        self.values[n] = Results(nid, count, fields) if count > 1 or fields else (nid, "out")
        self._owns(nid, n.target, sub)

    def _owns(self, nid: str, target: str, module: nn.Module) -> None:
        self.sources[nid] = {k: f"{target}.{k}" for k in module.state_dict()}

    def _sequence_layer(self, n: fx.Node, sub: nn.Module) -> None:
        """A recurrent, attention or Transformer layer: masks read, time-major inputs unwrapped."""
        b = inspect.signature(type(sub).forward).bind(None, *n.args, **n.kwargs).arguments
        data, mask, causal_flag = sequence_arguments(sub, b)
        time_major = not batch_first(sub)
        inputs = [self._layout(v, time_major, sub) for v in data]
        mapped = map_module(sub, [])
        if mask is not None or causal_flag or isinstance(sub, nn.TransformerDecoderLayer):
            mapped.params.update(clean_params(mapped.type, {"causal": self._causal(mask, causal_flag)}))
        nid = self._add_call(n, mapped.type, mapped.params)
        for port, src in zip(self.net.ports(self.net.node(nid))[0], inputs):
            self.net.connect(src[0], src[1], nid, port)
        self._owns(nid, n.target, sub)
        out: Any = (nid, "out")
        if isinstance(sub, RAW_RNN):
            self.recurrent[nid] = sub
            out = Recurrent(nid, "result", time_major)
        elif time_major:
            out = TimeMajor(out)
        if isinstance(sub, nn.MultiheadAttention):
            out = Several(out, "the attention weights")
        self.values[n] = out

    def _layout(self, v, time_major: bool, sub: nn.Module) -> Out:
        value = self.values.get(v) if isinstance(v, fx.Node) else None
        if time_major:
            if not isinstance(value, TimeMajor):
                raise Unsupported(f"{type(sub).__name__} with batch_first=False given a batch-first tensor: the "
                                  f"module's input is time-major, which import cannot express (permute it in "
                                  f"forward, or use batch_first=True)")
            return value.value
        return self._value(v)

    def _causal(self, mask, flag) -> bool:
        if mask is None:
            return bool(flag)
        value = self.values.get(mask) if isinstance(mask, fx.Node) else None
        if not isinstance(value, Mask) or not value.causal:
            raise Unsupported("an attention mask that is not causal (the catalog's layers take a causal mask "
                              "or a key padding mask)")
        return True

    # --- functions and methods -------------------------------------------------------------
    def _call(self, n: fx.Node) -> None:
        if n in self.masks:
            self.values[n] = Mask(is_causal(self.sizes.info(n)))
            return
        if self._special(n):
            return
        if n.op == "call_method" and n.target in SHAPE_METHODS or self.sizes.info(n) is None:
            self.values[n] = None  # sizes and other plain values: the rules read them through Sizes
            return
        if any(isinstance(self.values.get(a), Param) for a in _node_args(n)):
            self._parameter_call(n)
            return
        rule = FUNCTIONS.get(n.target) if n.op == "call_function" else METHODS.get(n.target)
        if rule is None:
            raise Unsupported("no catalog entry for it")
        mapped = rule(n, n.args, dict(n.kwargs), self.sizes)
        if mapped is PASS:
            first = n.args[0] if n.args else next(iter(n.kwargs.values()))
            self.values[n] = self._carried(first[0] if isinstance(first, (list, tuple)) else first)
            return
        self._result(n, mapped)

    def _carried(self, v) -> Any:
        """The value a pass-through call returns: its input's, time-major or not."""
        value = self.values.get(v) if isinstance(v, fx.Node) else None
        return value if isinstance(value, TimeMajor) else self._value(v)

    def _special(self, n: fx.Node) -> bool:
        """Calls on recurrent results, tuples and time-major tensors; True when handled."""
        args = n.args
        first = self.values.get(args[0]) if args and isinstance(args[0], fx.Node) else None
        if n.target in (operator.getitem, getattr) and isinstance(first, Results) and first.port(args[1]):
            self.values[n] = (first.node, first.port(args[1]))
            return True
        if n.target is operator.getitem and isinstance(first, Several):
            if args[1] != 0:
                raise Unsupported(first.refused)
            self.values[n] = first.first
            return True
        if isinstance(first, Recurrent):
            self.values[n] = recurrent_use(self, n, first)
            return True
        if is_swap(n, self.sizes):
            if isinstance(first, TimeMajor):
                self.values[n] = first.value
            else:
                self.values[n] = TimeMajor(self._value(args[0]))
            return True
        if isinstance(first, TimeMajor) and n.target is operator.getitem and isinstance(args[1], int):
            nid = self._add_call(n, "Select", clean_params("Select", {"dim": 1, "index": args[1]}))
            self.net.connect(*first.value, nid, "in")
            self.values[n] = (nid, "out")  # out[-1] of a time-major sequence: its last step, batch first
            return True
        if n.target in (torch.cat, torch.concat) and joined_directions(self, n):
            return True
        return False

    # --- parameters used in forward ------------------------------------------------------
    def _parameter_call(self, n: fx.Node) -> None:
        """F.conv2d(x, self.weight, ...), F.linear, x * self.gamma, x + self.pos_embed, ...expand for a token."""
        if n.op == "call_method" and n.target == "expand":
            self.values[n] = Param(self.values[n.args[0]].target, expanded=True)
            return
        rule = PARAMETER_RULES.get(n.target) if n.op == "call_function" else PARAMETER_METHODS.get(n.target)
        if rule is None:
            raise Unsupported("a parameter or buffer used directly in forward in a way the catalog has no layer "
                              "for (wrap it in a layer)")
        mapped, owned = rule(self, n)
        if n.target is F.conv2d:
            self._fold_padding(mapped)
        nid = self._result(n, mapped)
        self.sources[nid] = owned
        if mapped.type in ("Scale", "Bias", "ClassToken"):  # named after the parameter: gamma_1, pos_embed
            self.origin[nid] = (n, next(iter(owned.values())).rsplit(".", 1)[-1])

    def _fold_padding(self, mapped: Mapped) -> None:
        """nn.ZeroPad2d(p) before F.conv2d(x, self.weight, ...) (efficientnet's static same padding), when the
        padding is the same on both sides: the convolution's own padding, and no ZeroPad2d node."""
        padded = mapped.inputs[0]
        source = self.values.get(padded)
        pad = self.net.node(source[0]) if isinstance(source, tuple) else None
        if pad is None or pad.type != "ZeroPad2d" or len(padded.users) != 1:
            return
        amounts = pad.params.get("padding", 1)
        left, right, top, bottom = [amounts] * 4 if isinstance(amounts, int) else amounts
        padding = mapped.params.get("padding", 0)
        if left != right or top != bottom or padding not in (0, [0, 0]):
            return
        self.net.remove_node(pad.id)
        self.origin.pop(pad.id, None)
        self.sources.pop(pad.id, None)
        mapped.inputs[0] = padded.args[0]
        mapped.params.update(clean_params(mapped.type, {"padding": [top, left]}))

    def param(self, v) -> Param | None:
        """The Param a traced value is, or None."""
        value = self.values.get(v) if isinstance(v, fx.Node) else None
        return value if isinstance(value, Param) else None

    def param_shape(self, p: Param) -> tuple[int, ...]:
        """The shape of a parameter of the module."""
        return tuple(self.gm.get_parameter(p.target).shape)

    # --- output and plumbing ---------------------------------------------------------------
    def _outputs(self, result) -> None:
        results = list(result) if isinstance(result, (tuple, list)) else [result]
        for i, r in enumerate(results):
            src = self._value(r)
            nid = self._add(catalog.OUTPUT, "out" if len(results) == 1 else f"out{i}", {})
            self.net.connect(src[0], src[1], nid, "in")

    def _result(self, n: fx.Node, mapped: Mapped) -> str:
        """Adds the node for `mapped` as the value of `n`; a layer that works on the last dimension
        alone takes time-major tensors as they are and gives one back."""
        ins = [self.values.get(v) if isinstance(v, fx.Node) else None for v in mapped.inputs]
        swapped = bool(ins) and all(isinstance(v, TimeMajor) for v in ins) and _per_position(mapped)
        nid = self._place(n, mapped, [v.value for v in ins] if swapped else None)
        self.values[n] = TimeMajor((nid, "out")) if swapped else (nid, "out")
        return nid

    def _place(self, n: fx.Node, mapped: Mapped, sources: list[Out] | None = None) -> str:
        sources = sources or [self._value(v) for v in mapped.inputs]
        nid = self._add_call(n, mapped.type, mapped.params)
        ports = self.net.ports(self.net.node(nid))[0]
        if len(sources) > len(ports):
            raise Unsupported(f"{len(sources)} inputs for {mapped.type}, which takes {len(ports)}")
        for port, (src, src_port) in zip(ports, sources):
            self.net.connect(src, src_port, nid, port)
        return nid

    def _add(self, type_name: str, name: str, params: dict) -> str:
        nid = self.net.add_node(type_name, self.net.unique_name(name), params, (SPACING * self.index, 0.0))
        self.index += 1
        return nid

    def _add_call(self, n: fx.Node, type_name: str, params: dict) -> str:
        """A node for call `n`: a layer named after its path, a function call after the function it compiles to.

        ``x[:, 0]`` becomes a Select node called ``select`` (compiled, it is
        ``torch.select``), numbered afresh (select, select_2, ...): the
        generated code then imports back to the same names.
        """
        spec = catalog.get(type_name)
        if n.op == "call_module":
            name = n.name
        elif spec.is_function:
            name = spec.function.__name__
        else:
            name = re.sub(r"_\d+$", "", n.name)
        nid = self._add(type_name, name, params)
        self.origin[nid] = (n, name)
        return nid

    def _value(self, v) -> Out:
        value = self.values.get(v) if isinstance(v, fx.Node) else None
        if isinstance(value, tuple):
            return value
        what = v.name if isinstance(v, fx.Node) else repr(v)
        if isinstance(value, TimeMajor):
            raise Unsupported(f"'{what}' has its batch dimension second (after a permute or transpose of "
                              f"dimensions 0 and 1); only batch_first=False recurrent, attention and Transformer "
                              f"layers, or the swap back, can take it")
        if isinstance(value, Recurrent):
            raise Unsupported(f"'{what}' is part of a recurrent layer's state, used other than as h_n[-1]")
        if isinstance(value, Param):
            raise Unsupported(f"'{what}' is a parameter used directly in forward, in a way the catalog has no "
                              f"layer for")
        raise Unsupported(f"'{what}' is not the output of a layer (constants and sizes cannot feed a layer)")


# --- reading calls ------------------------------------------------------------------------------

# Layers that treat every position alike and work on the last dimension (or element-wise): they commute
# with swapping the batch and time dimensions.
_PER_POSITION = {"Linear", "LayerNorm", "Dropout", "AlphaDropout", "Identity", "Add", "Subtract", "Multiply",
                 *(spec.type for spec in catalog.REGISTRY.values() if spec.category == "Activation")} - {"PReLU"}


def _per_position(mapped: Mapped) -> bool:
    if mapped.type in ("Softmax", "LogSoftmax"):
        return mapped.params.get("dim", -1) in (-1, 2)
    return mapped.type in _PER_POSITION


def _node_args(n: fx.Node) -> list[fx.Node]:
    found = []
    for a in (*n.args, *n.kwargs.values()):
        if isinstance(a, (list, tuple)):
            found += [x for x in a if isinstance(x, fx.Node)]
        elif isinstance(a, fx.Node):
            found.append(a)
    return found
