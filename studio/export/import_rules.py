"""How torch modules, functions and tensor methods map back to catalog layer types.

Used by `studio.export.importer`. A rule turns one traced call into a
`Mapped` (a catalog type, the parameters a user would set, the traced values
feeding its input ports) or `PASS` (the call returns its input unchanged,
like ``x.contiguous()``); anything else raises `Unsupported` with the reason.
This module holds the rules for modules; `import_functions` those for
functions and tensor methods.

Module parameters are read back from the module's attributes, which torch
names after the constructor arguments (``conv.kernel_size``), normalised to
the catalog's JSON form (``(3, 3)`` -> ``3``) and checked with the catalog's
own `check_value`; settings the catalog cannot express must have their
default value, or the module is refused.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from studio import catalog
from studio.catalog import check_value
from studio.catalog import own_modules


class Unsupported(Exception):
    """A call the catalog cannot express; the message says why."""


@dataclass
class Mapped:
    """One catalog node for a traced call.

    Attributes:
        type: the catalog type.
        params: user-settable parameters (defaults left out).
        inputs: traced values for the node's input ports, in port order.
    """

    type: str
    params: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)


PASS = object()


def clean_params(type_name: str, values: dict) -> dict:
    """Catalog-canonical parameters without the defaults; Unsupported for a value out of range."""
    spec = catalog.get(type_name)
    out = {}
    for name, value in values.items():
        p = spec.param(name)
        value = _json(value)
        if p.kind == "ints" and isinstance(value, list) and value and all(v == value[0] for v in value):
            value = value[0]
        try:
            value = check_value(p, value)
        except ValueError as e:
            raise Unsupported(f"{type_name} {e}") from None
        if value != _canonical(p):
            out[name] = value
    return out


def _canonical(p) -> Any:
    try:
        return check_value(p, p.default)
    except ValueError:
        return p.default


def _json(value):
    if isinstance(value, (tuple, list, torch.Size)):
        return [_json(v) for v in value]
    return value


def _require(module: nn.Module, **defaults) -> None:
    for attr, want in defaults.items():
        have = getattr(module, attr, want)
        if have != want:
            raise Unsupported(f"{type(module).__name__} with {attr}={have!r} (the catalog supports only {want!r})")


# --- modules ---------------------------------------------------------------------

def settable(type_name: str) -> list[str]:
    """The parameters of a catalog type a user sets (the inferred ones left out)."""
    return [p.name for p in catalog.get(type_name).params if not p.inferred]


def _generic(type_name: str, module: nn.Module, **override) -> dict:
    values = {}
    for name in settable(type_name):
        if name in override:
            values[name] = override[name]
        elif name == "bias" and isinstance(getattr(module, "bias", None), (torch.Tensor, type(None))):
            values[name] = module.bias is not None
        else:
            values[name] = getattr(module, name)
    return clean_params(type_name, values)


def _conv(type_name: str, m: nn.Module) -> dict:
    if not isinstance(m.padding, str) and getattr(m, "_reversed_padding_repeated_twice", None) is None:
        raise Unsupported("a convolution without its padding settings")
    return _generic(type_name, m)


def _pool(type_name: str, m: nn.Module) -> dict:
    if type_name.startswith("Max"):
        _require(m, return_indices=False)
    else:
        _require(m, count_include_pad=True, divisor_override=None)
    stride = None if m.stride == m.kernel_size else m.stride
    return _generic(type_name, m, stride=stride)


def _batchnorm(type_name: str, m: nn.Module) -> dict:
    _require(m, track_running_stats=True)
    return _generic(type_name, m)


def _layernorm(type_name: str, m: nn.LayerNorm) -> dict:
    if len(m.normalized_shape) != 1:
        raise Unsupported(f"LayerNorm over {len(m.normalized_shape)} dimensions (the catalog normalises the last one)")
    if m.elementwise_affine and m.bias is None:
        raise Unsupported("LayerNorm with bias=False")
    return _generic(type_name, m)


def _softmax(type_name: str, m: nn.Module) -> dict:
    if m.dim is None:
        raise Unsupported(f"{type_name} without dim")
    return _generic(type_name, m)


def _embedding(type_name: str, m: nn.Module) -> dict:
    _require(m, max_norm=None, scale_grad_by_freq=False)
    if type_name == "EmbeddingBag":
        _require(m, include_last_offset=False, padding_idx=None)
    return _generic(type_name, m)


def _upsample(type_name: str, m: nn.Upsample) -> dict:
    _require(m, recompute_scale_factor=None)
    scale, size = m.scale_factor, m.size
    if size is not None:
        return _generic(type_name, m, scale_factor=2.0, size=[size] if isinstance(size, int) else list(size),
                        align_corners=bool(m.align_corners))
    if isinstance(scale, (tuple, list)):
        if len(set(scale)) != 1:
            raise Unsupported(f"Upsample with different factors per dimension {scale}")
        scale = scale[0]
    return _generic(type_name, m, scale_factor=float(scale), size=None, align_corners=bool(m.align_corners))


def _prelu(type_name: str, m: nn.PReLU) -> dict:
    return _generic(type_name, m, init=0.25)  # the weights carry the learned slope


def _transformer(type_name: str, m: nn.Module) -> dict:
    """A torch Transformer layer's settings (batch_first is the builder's: it feeds time-major layers)."""
    act = _activation(m)
    if act is None:
        raise Unsupported(f"{type(m).__name__} with an activation other than relu or gelu")
    return clean_params(type_name, {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features,
                                    "dropout": m.dropout.p, "activation": act, "norm_first": m.norm_first})


def _activation(m: nn.Module) -> str | None:
    """"relu" or "gelu" for a torch Transformer layer's feed-forward activation, else None."""
    code = getattr(m, "activation_relu_or_gelu", 0)
    if code:
        return {1: "relu", 2: "gelu"}.get(code)
    fn = m.activation
    for name, cls in (("relu", nn.ReLU), ("gelu", nn.GELU)):
        if fn is getattr(F, name) or type(fn) is cls:
            return name
    return None


def _attention(type_name: str, m: nn.MultiheadAttention) -> dict:
    if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
        raise Unsupported("MultiheadAttention with kdim, vdim, add_bias_kv or add_zero_attn")
    return clean_params(type_name, {"num_heads": m.num_heads, "dropout": m.dropout,
                                    "bias": m.in_proj_bias is not None})


def _rnn_values(rnn: nn.RNNBase) -> dict:
    return {"hidden_size": rnn.hidden_size, "num_layers": rnn.num_layers,
            "bidirectional": rnn.bidirectional, "dropout": float(rnn.dropout)}


def _raw_rnn(type_name: str, m: nn.RNNBase) -> dict:
    _require(m, proj_size=0, bias=True)
    if getattr(m, "nonlinearity", "tanh") != "tanh":
        raise Unsupported("RNN with nonlinearity='relu'")
    return clean_params(type_name, {**_rnn_values(m), "output": "sequence"})


# torch.nn class -> (catalog type, reader)
MODULES: dict[type, tuple[str, Callable]] = {}
for _spec in catalog.REGISTRY.values():
    if _spec.module is not None and _spec.module.__module__.startswith("torch.nn"):
        MODULES[_spec.module] = (_spec.type, _generic)
for _name in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"):
    MODULES[getattr(nn, _name)] = (_name, _conv)
for _name in ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d"):
    MODULES[getattr(nn, _name)] = (_name, _pool)
for _name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
    MODULES[getattr(nn, _name)] = (_name, _batchnorm)
MODULES.update({
    nn.LayerNorm: ("LayerNorm", _layernorm), nn.Softmax: ("Softmax", _softmax),
    nn.LogSoftmax: ("LogSoftmax", _softmax), nn.Embedding: ("Embedding", _embedding),
    nn.EmbeddingBag: ("EmbeddingBag", _embedding), nn.Upsample: ("Upsample", _upsample),
    nn.PReLU: ("PReLU", _prelu), nn.TransformerEncoderLayer: ("TransformerEncoderLayer", _transformer),
    nn.TransformerDecoderLayer: ("TransformerDecoderLayer", _transformer),
    nn.MultiheadAttention: ("MultiheadAttention", _attention),
    nn.LSTM: ("LSTM", _raw_rnn), nn.GRU: ("GRU", _raw_rnn), nn.RNN: ("RNN", _raw_rnn),
})
RAW_RNN = (nn.LSTM, nn.GRU, nn.RNN)
# torch layers with a batch_first setting: with it off they take and give time-major (batch second) tensors.
BATCH_FIRST = (*RAW_RNN, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.MultiheadAttention)


def batch_first(m: nn.Module) -> bool:
    """Whether a layer of BATCH_FIRST takes (N, L, F) tensors."""
    return bool(m.self_attn.batch_first if hasattr(m, "self_attn") else m.batch_first)


def _custom_params(m: nn.Module) -> tuple[str, dict]:
    """Catalog type and parameters of one of studio's own modules (as copied into generated source)."""
    name = type(m).__name__
    if name in ("Recurrent", "LSTMLayer"):  # the catalog type depends on the wrapped layer
        return _own_recurrent(m)
    if name not in _STUDIO_MODULES:
        raise Unsupported(f"studio module {name}")
    type_name, read = _STUDIO_MODULES[name]
    return type_name, clean_params(type_name, read(m))


def _own_recurrent(m: nn.Module) -> tuple[str, dict]:
    kind = "LSTM" if type(m).__name__ == "LSTMLayer" else type(m.rnn).__name__
    return kind, clean_params(kind, {**_rnn_values(m.rnn), "output": m.output})


def _own_decoder(m: nn.Module) -> dict:
    layer = m.layer
    return {"nhead": layer.self_attn.num_heads, "dim_feedforward": layer.linear1.out_features,
            "dropout": layer.dropout.p, "activation": _activation(layer) or "relu", "norm_first": layer.norm_first,
            "causal": m.causal}


# studio module class -> (catalog type, its parameters read from the module)
_STUDIO_MODULES: dict[str, tuple[str, Callable[[nn.Module], dict]]] = {
    "Reshape": ("Reshape", lambda m: {"shape": m.shape}),
    "Permute": ("Permute", lambda m: {"dims": m.dims}),
    "Slice": ("Slice", lambda m: {"dim": m.dim, "start": m.start, "end": m.end}),
    "GlobalAvgPool": ("GlobalAvgPool", lambda m: {}),
    "Attention": ("MultiheadAttention", lambda m: {"num_heads": m.mha.num_heads, "dropout": m.mha.dropout,
                                                    "bias": m.mha.in_proj_bias is not None, "causal": m.causal}),
    "DecoderLayer": ("TransformerDecoderLayer", _own_decoder),
    "SinusoidalPositionalEncoding": ("PositionalEncoding", lambda m: {"kind": "sinusoidal", "max_len": m.pe.shape[0],
                                                                      "dropout": m.dropout.p}),
    "LearnedPositionalEncoding": ("PositionalEncoding", lambda m: {"kind": "learned", "max_len": m.pe.shape[0],
                                                                   "dropout": m.dropout.p}),
    "EncoderLayer": ("TransformerEncoderLayer", lambda m: {**_transformer("TransformerEncoderLayer", m.layer),
                                                           "causal": m.causal}),
    "ScalarOp": ("ScalarOp", lambda m: {"op": m.op, "value": float(m.value)}),
    "PadTo": ("PadTo", lambda m: {}),
    "ClassToken": ("ClassToken", lambda m: {}),
    "ResizeTo": ("ResizeTo", lambda m: {"mode": m.mode, "align_corners": bool(m.align_corners)}),
    "Scale": ("Scale", lambda m: {"shape": list(m.weight.shape)}),
    "Bias": ("Bias", lambda m: {"shape": list(m.weight.shape)}),
    "ScaledDotProductAttention": ("ScaledDotProductAttention", lambda m: {"causal": m.causal, "dropout": m.dropout}),
}


_CUSTOM = own_modules.CLASSES


def is_studio_module(m: nn.Module) -> bool:
    """True for studio's own modules, also when copied into generated source (same name, same code)."""
    cls = type(m)
    name = cls.__name__
    if name not in _CUSTOM:
        return False
    ours = _CUSTOM[name]
    if cls is ours:
        return True
    for attr in ("__init__", "forward"):
        mine, theirs = cls.__dict__.get(attr), ours.__dict__.get(attr)
        if (mine is None) != (theirs is None):
            return False
        try:
            if mine is not None and inspect.getsource(mine) != inspect.getsource(theirs):
                return False
        except (OSError, TypeError):  # source not available: not provably ours
            return False
    return True


def torch_layer(cls: type) -> type | None:
    """The torch.nn class with a catalog entry that `cls` is, or subclasses without a forward of its own."""
    for base in cls.__mro__:
        if base in MODULES:
            return base
        if "forward" in base.__dict__:
            return None
    return None


def is_leaf_layer(m: nn.Module) -> bool:
    """Modules imported whole: studio's own, and torch.nn layers with a catalog entry (or subclasses keeping their forward)."""
    return is_studio_module(m) or torch_layer(type(m)) is not None


def map_module(m: nn.Module, inputs: list) -> Mapped:
    """The catalog node for a call of a leaf module; Unsupported when there is none."""
    if is_studio_module(m):
        type_name, params = _custom_params(m)
        if type(m).__name__ == "EncoderLayer" and len(inputs) > 1:
            params["mask_padding"] = True
        return Mapped(type_name, params, inputs)
    base = torch_layer(type(m))
    if base is None:
        raise Unsupported(f"no catalog entry for {qualname(type(m))}")
    type_name, reader = MODULES[base]
    return Mapped(type_name, reader(type_name, m), inputs)


def qualname(cls: type) -> str:
    """``package.module.Class``."""
    return f"{cls.__module__}.{cls.__qualname__}"
