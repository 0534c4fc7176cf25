"""Reading the calls around sequence layers: time-major swaps, hidden states, attention masks.

Used by `studio.export.import_build`: which permutes swap the batch and time
dimensions, how code indexes a recurrent layer's hidden state, which traced
values exist only to become an attention mask (and whether a mask is causal),
the data and mask arguments of a recurrent, attention or Transformer
layer's call, and what code takes from a raw recurrent layer's result (its
sequence, ``h_n[-1]``, both directions' last states), which sets the catalog
layer's ``output``.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any

import torch
from torch import fx, nn

from studio.export.import_rules import BATCH_FIRST, RAW_RNN, Unsupported, clean_params
from studio.export.import_sizes import Sizes
from studio.export.import_trace import TensorInfo
from studio.export.import_values import Recurrent, TimeMajor


def is_swap(n: fx.Node, sizes: Sizes) -> bool:
    """x.permute(1, 0, 2), x.transpose(0, 1) and their function forms, on a 3-D tensor."""
    if n.target not in ("permute", "transpose", torch.permute, torch.transpose) or not n.args:
        return False
    if sizes.info(n.args[0]) is None or len(sizes(n.args[0])) != 3:
        return False
    rest = n.args[1:]
    if n.target in ("permute", torch.permute):
        dims = rest[0] if len(rest) == 1 else rest
        dims = list(n.kwargs.get("dims", dims))
        return [d % 3 for d in dims] == [1, 0, 2]
    dims = list(rest) + [n.kwargs[k] for k in ("dim0", "dim1") if k in n.kwargs]
    return sorted(d % 3 for d in dims) == [0, 1]


def plain_index(index):
    """hidden[-2, :, :] is hidden[-2]."""
    full = slice(None, None, None)
    if isinstance(index, tuple) and index and all(i == full for i in index[1:]):
        return index[0]
    return index


def squeezes_first(n: fx.Node) -> bool:
    """h_n.squeeze(0) or torch.squeeze(h_n, 0)."""
    return n.target in ("squeeze", torch.squeeze) and (n.args[1:] == (0,) or n.kwargs.get("dim") == 0)


_MASK_KEYS = {"attn_mask", "src_mask", "tgt_mask", "mask"}


def sequence_arguments(sub: nn.Module, b: dict) -> tuple[list, Any, Any]:
    """(data inputs, the attention mask or None, the is_causal flag) of a sequence layer's call."""
    if isinstance(sub, RAW_RNN):
        if b.get("hx") is not None:
            raise Unsupported("an initial state passed to a recurrent layer (the catalog's start from zeros)")
        return [b["input"]], None, None
    for key in ("key_padding_mask", "src_key_padding_mask", "tgt_key_padding_mask", "memory_key_padding_mask",
                "memory_mask"):
        if b.get(key) is not None:
            raise Unsupported(f"{type(sub).__name__} called with {key}")
    if isinstance(sub, nn.MultiheadAttention):
        return [b["query"], b["key"], b["value"]], b.get("attn_mask"), b.get("is_causal")
    if isinstance(sub, nn.TransformerDecoderLayer):
        return [b["tgt"], b["memory"]], b.get("tgt_mask"), b.get("tgt_is_causal")
    return [b["src"]], b.get("src_mask"), b.get("is_causal")


def mask_only(gm: fx.GraphModule) -> set[fx.Node]:
    """Nodes computed only to become attention masks (nn.Transformer.generate_square_subsequent_mask, ...)."""
    masks: set[fx.Node] = set()
    for n in reversed(list(gm.graph.nodes)):
        if n.op not in ("call_function", "call_method", "get_attr") or not n.users:
            continue
        if all(u in masks or _takes_as_mask(gm, u, n) for u in n.users):
            masks.add(n)
    return masks


def _takes_as_mask(gm: fx.GraphModule, user: fx.Node, n: fx.Node) -> bool:
    if user.op != "call_module" or not isinstance(gm.get_submodule(user.target), BATCH_FIRST):
        return False
    sub = gm.get_submodule(user.target)
    bound = inspect.signature(type(sub).forward).bind(None, *user.args, **user.kwargs).arguments
    return any(bound.get(k) is n for k in _MASK_KEYS)


def is_causal(info: TensorInfo | None) -> bool:
    """True for a square mask hiding exactly the positions after each one (-inf or True above the diagonal)."""
    if info is None or info.value is None or len(info.shape) != 2 or info.shape[0] != info.shape[1]:
        return False
    m = info.value
    above = torch.ones(m.shape, dtype=torch.bool).triu(1)
    if m.dtype == torch.bool:
        return bool(torch.equal(m, above))
    return bool(torch.all(torch.isneginf(m[above]))) and bool(torch.all(m[~above] == 0))


# --- what code takes from a raw recurrent layer's result ----------------------------------------

def recurrent_use(b, n: fx.Node, r: Recurrent) -> Any:
    """The value of call `n` on `r`, part of a raw recurrent layer's result (`b`: the builder); the layer's
    ``output`` is set to what the code takes."""
    layer = b.recurrent[r.node]
    index = plain_index(n.args[1]) if n.target is operator.getitem and len(n.args) > 1 else None
    if r.part == "result" and index == 0:
        _choose(b, r.node, "sequence")
        return TimeMajor((r.node, "out")) if r.time_major else (r.node, "out")
    if r.part == "result" and index == 1:
        return Recurrent(r.node, "state" if isinstance(layer, nn.LSTM) else "h", r.time_major)
    if r.part == "state" and index == 0:
        return Recurrent(r.node, "h", r.time_major)
    if r.part == "state" and index == 1:
        raise Unsupported("the cell state of an LSTM (the catalog's LSTM gives its hidden state)")
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    if r.part == "h" and squeezes_first(n) and count == 1:
        index = 0
    if r.part == "h" and isinstance(index, int) and -count <= index < count:
        top = index % count
        if top == count - 1 and not layer.bidirectional:
            _choose(b, r.node, "hidden")
            return (r.node, "out")
        if layer.bidirectional and top >= count - 2:
            return Recurrent(r.node, "h_fwd" if top == count - 2 else "h_bwd", r.time_major)
    raise Unsupported("a use of a recurrent layer's state other than h_n[-1] (or torch.cat([h_n[-2], "
                      "h_n[-1]], 1) when bidirectional), its output sequence, or out[:, -1]")

def joined_directions(b, n: fx.Node) -> bool:
    """torch.cat([h_n[-2], h_n[-1]], 1): a bidirectional layer's hidden output; True when `n` is that."""
    tensors = n.args[0] if n.args else n.kwargs.get("tensors")
    parts = [b.values.get(t) if isinstance(t, fx.Node) else None for t in tensors]
    if not parts or not all(isinstance(p, Recurrent) for p in parts):
        return False
    dim = n.args[1] if len(n.args) > 1 else n.kwargs.get("dim", 0)
    if [p.part for p in parts] != ["h_fwd", "h_bwd"] or parts[0].node != parts[1].node or dim not in (1, -1):
        raise Unsupported("the two directions of a recurrent layer joined other than torch.cat([h_n[-2], "
                          "h_n[-1]], 1)")
    _choose(b, parts[0].node, "hidden")
    b.values[n] = (parts[0].node, "out")
    return True

def _choose(b, nid: str, output: str) -> None:
    chosen = b.outputs.setdefault(nid, output)
    if chosen != output:
        raise Unsupported(f"both the {chosen} and the {output} of one recurrent layer (the catalog's layer "
                          f"gives one of them)")
    node = b.net.node(nid)
    b.net.set_params(nid, clean_params(node.type, {**node.params, "output": output}))
