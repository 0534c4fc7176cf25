"""Reading the calls around sequence layers: time-major swaps, hidden states, attention masks.

Used by `studio.export.import_build`: which permutes swap the batch and time
dimensions, how code indexes a recurrent layer's hidden state, which traced
values exist only to become an attention mask (and whether a mask is causal),
and the data and mask arguments of a recurrent, attention or Transformer
layer's call.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import fx, nn

from studio.export.import_rules import BATCH_FIRST, RAW_RNN, Unsupported
from studio.export.import_sizes import Sizes
from studio.export.import_trace import TensorInfo

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
