"""Layers rebuilt from parameters a module uses directly in forward.

A rule is called as ``rule(builder, node)`` for a traced call that takes a
parameter of the module (``F.conv2d(x, self.weight, self.bias, ...)``,
``x * self.gamma``, ``torch.cat([self.cls_token.expand(N, -1, -1), x], 1)``)
and returns (a `Mapped` catalog node, {role in the new layer: the parameter's
state_dict key}); the builder gives ``builder.param(value)`` (the `Param` a
traced value is) and ``builder.param_shape(param)``.
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import fx

from studio.export.import_rules import Mapped, Unsupported, clean_params

def _bind(n: fx.Node, names: tuple[str, ...], defaults: dict) -> dict:
    bound = dict(defaults)
    bound.update(zip(names, n.args))
    bound.update({k: v for k, v in n.kwargs.items() if k in names})
    return bound


def _owned(builder, **roles) -> dict[str, str]:
    out = {}
    for role, v in roles.items():
        p = builder.param(v)
        if v is not None and p is None:
            raise Unsupported(f"a computed '{role}' (only parameters of the module can be a layer's weights)")
        if p is not None:
            out[role] = p.target
    return out


def _conv(dims: int):
    def rule(builder, n: fx.Node):
        b = _bind(n, ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
                  {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1})
        owned = _owned(builder, weight=b["weight"], bias=b["bias"])
        shape = builder.param_shape(builder.param(b["weight"]))
        type_name = f"Conv{dims}d"
        return Mapped(type_name, clean_params(type_name, {
            "out_channels": shape[0], "kernel_size": list(shape[2:]), "stride": b["stride"],
            "padding": b["padding"], "dilation": b["dilation"], "groups": b["groups"],
            "bias": "bias" in owned}), [b["input"]]), owned
    return rule


def _linear(builder, n: fx.Node):
    b = _bind(n, ("input", "weight", "bias"), {"bias": None})
    owned = _owned(builder, weight=b["weight"], bias=b["bias"])
    shape = builder.param_shape(builder.param(b["weight"]))
    return Mapped("Linear", clean_params("Linear", {"out_features": shape[0], "bias": "bias" in owned}),
                  [b["input"]]), owned


def _layer_norm(builder, n: fx.Node):
    b = _bind(n, ("input", "normalized_shape", "weight", "bias", "eps"), {"weight": None, "bias": None, "eps": 1e-5})
    owned = _owned(builder, weight=b["weight"], bias=b["bias"])
    if len(b["normalized_shape"]) != 1 or len(owned) not in (0, 2):
        raise Unsupported("layer_norm over several dimensions, or with a weight but no bias")
    return Mapped("LayerNorm", clean_params("LayerNorm", {"eps": b["eps"], "elementwise_affine": bool(owned)}),
                  [b["input"]]), owned


def _embedding(builder, n: fx.Node):
    b = _bind(n, ("input", "weight", "padding_idx", "max_norm"), {"padding_idx": None, "max_norm": None})
    if b["max_norm"] is not None:
        raise Unsupported("embedding with max_norm")
    owned = _owned(builder, weight=b["weight"])
    rows, width = builder.param_shape(builder.param(b["weight"]))
    return Mapped("Embedding", clean_params("Embedding", {"num_embeddings": rows, "embedding_dim": width,
                                                          "padding_idx": b["padding_idx"]}), [b["input"]]), owned


def _learned(type_name: str):
    """x + self.p (Bias) or x * self.p (Scale), either order."""
    def rule(builder, n: fx.Node):
        a, b = n.args[0], n.args[1]
        param, x = (a, b) if builder.param(a) is not None else (b, a)
        p = builder.param(param)
        if p.expanded or builder.param(x) is not None:
            raise Unsupported(f"{type_name.lower()} of two parameters")
        shape = builder.param_shape(p)
        return Mapped(type_name, clean_params(type_name, {"shape": list(shape) or [1]}), [x]), {"weight": p.target}
    return rule


def _class_token(builder, n: fx.Node):
    """torch.cat([self.cls_token.expand(N, -1, -1), x], 1): ViT's class token."""
    tensors = n.args[0] if n.args else n.kwargs["tensors"]
    dim = n.args[1] if len(n.args) > 1 else n.kwargs.get("dim", 0)
    p = builder.param(tensors[0]) if len(tensors) == 2 else None
    if p is None or not p.expanded or dim not in (1, -2) or len(builder.param_shape(p)) != 3 \
            or builder.param_shape(p)[:2] != (1, 1):
        raise Unsupported("a parameter joined to a tensor other than as a class token "
                          "(torch.cat([self.cls_token.expand(N, -1, -1), x], 1))")
    return Mapped("ClassToken", {}, [tensors[1]]), {"token": p.target}


PARAMETER_RULES = {F.conv1d: _conv(1), F.conv2d: _conv(2), F.conv3d: _conv(3), F.linear: _linear,
                    F.layer_norm: _layer_norm, F.embedding: _embedding,
                    operator.add: _learned("Bias"), torch.add: _learned("Bias"),
                    operator.mul: _learned("Scale"), torch.mul: _learned("Scale"),
                    torch.cat: _class_token, torch.concat: _class_token}
PARAMETER_METHODS = {"add": _learned("Bias"), "mul": _learned("Scale")}
