"""How torch modules, functions and tensor methods map back to catalog layer types.

Used by `studio.export.importer`. A rule turns one traced call into a
`Mapped` (a catalog type, the parameters a user would set, the traced values
feeding its input ports) or `PASS` (the call returns its input unchanged,
like ``x.contiguous()``); anything else raises `Unsupported` with the reason.

Module parameters are read back from the module's attributes, which torch
names after the constructor arguments (``conv.kernel_size``), normalised to
the catalog's JSON form (``(3, 3)`` -> ``3``) and checked with the catalog's
own `check_value`; settings the catalog cannot express must have their
default value, or the module is refused.
"""

from __future__ import annotations

import inspect
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

from studio import catalog
from studio.catalog import check_value
from studio.catalog import modules as custom


class Unsupported(Exception):
    """A call the catalog cannot express; the message says why."""


@dataclass
class Mapped:
    """One catalog node for a traced call.

    Attributes:
        type: the catalog type.
        params: user-settable parameters (defaults left out).
        inputs: traced values for the node's input ports, in port order.
        weight_prefix: inserted after the node name in state_dict keys (a raw
            ``nn.LSTM`` becomes the ``rnn`` inside the catalog's LSTM module).
    """

    type: str
    params: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)
    weight_prefix: str = ""


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

def _settable(type_name: str) -> list[str]:
    return [p.name for p in catalog.get(type_name).params if not p.inferred]


def _generic(type_name: str, module: nn.Module, **override) -> dict:
    values = {}
    for name in _settable(type_name):
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
    _require(m, size=None, recompute_scale_factor=None)
    if m.align_corners:
        raise Unsupported("Upsample with align_corners=True")
    scale = m.scale_factor
    if isinstance(scale, (tuple, list)):
        if len(set(scale)) != 1:
            raise Unsupported(f"Upsample with different factors per dimension {scale}")
        scale = scale[0]
    return _generic(type_name, m, scale_factor=float(scale))


def _prelu(type_name: str, m: nn.PReLU) -> dict:
    return _generic(type_name, m, init=0.25)  # the weights carry the learned slope


def _encoder(type_name: str, m: nn.TransformerEncoderLayer) -> dict:
    if not m.self_attn.batch_first:
        raise Unsupported("TransformerEncoderLayer with batch_first=False (the catalog's is batch first)")
    act = {1: "relu", 2: "gelu"}.get(getattr(m, "activation_relu_or_gelu", 0))
    if act is None:
        raise Unsupported("TransformerEncoderLayer with an activation other than relu or gelu")
    return clean_params(type_name, {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features,
                                    "dropout": m.dropout.p, "activation": act, "norm_first": m.norm_first})


def _rnn_values(rnn: nn.RNNBase) -> dict:
    return {"hidden_size": rnn.hidden_size, "num_layers": rnn.num_layers,
            "bidirectional": rnn.bidirectional, "dropout": float(rnn.dropout)}


def _raw_rnn(type_name: str, m: nn.RNNBase) -> dict:
    if not m.batch_first:
        raise Unsupported(f"{type(m).__name__} with batch_first=False (the catalog's are batch first)")
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
    nn.PReLU: ("PReLU", _prelu), nn.TransformerEncoderLayer: ("TransformerEncoderLayer", _encoder),
    nn.LSTM: ("LSTM", _raw_rnn), nn.GRU: ("GRU", _raw_rnn), nn.RNN: ("RNN", _raw_rnn),
})
RAW_RNN = (nn.LSTM, nn.GRU, nn.RNN)


def _custom_params(m: nn.Module) -> tuple[str, dict]:
    """Catalog type and parameters of one of studio's own modules (as copied into generated source)."""
    name = type(m).__name__
    if name == "Reshape":
        return "Reshape", clean_params("Reshape", {"shape": m.shape})
    if name == "Permute":
        return "Permute", clean_params("Permute", {"dims": m.dims})
    if name == "Slice":
        return "Slice", clean_params("Slice", {"dim": m.dim, "start": m.start, "end": m.end})
    if name == "GlobalAvgPool":
        return "GlobalAvgPool", {}
    if name in ("Recurrent", "LSTMLayer"):
        kind = "LSTM" if name == "LSTMLayer" else type(m.rnn).__name__
        return kind, clean_params(kind, {**_rnn_values(m.rnn), "output": m.output})
    if name == "Attention":
        return "MultiheadAttention", clean_params("MultiheadAttention", {
            "num_heads": m.mha.num_heads, "dropout": m.mha.dropout, "bias": m.mha.in_proj_bias is not None,
            "causal": m.causal})
    if name == "DecoderLayer":
        layer = m.layer
        act = {1: "relu", 2: "gelu"}.get(getattr(layer, "activation_relu_or_gelu", 0), "relu")
        return "TransformerDecoderLayer", clean_params("TransformerDecoderLayer", {
            "nhead": layer.self_attn.num_heads, "dim_feedforward": layer.linear1.out_features,
            "dropout": layer.dropout.p, "activation": act, "norm_first": layer.norm_first, "causal": m.causal})
    if name in ("SinusoidalPositionalEncoding", "LearnedPositionalEncoding"):
        kind = "sinusoidal" if name.startswith("Sinusoidal") else "learned"
        return "PositionalEncoding", clean_params("PositionalEncoding", {
            "kind": kind, "max_len": m.pe.shape[0], "dropout": m.dropout.p})
    if name == "ScaledDotProductAttention":
        return "ScaledDotProductAttention", clean_params("ScaledDotProductAttention",
                                                         {"causal": m.causal, "dropout": m.dropout})
    raise Unsupported(f"studio module {name}")


_CUSTOM = {name for name, obj in vars(custom).items()
           if inspect.isclass(obj) and issubclass(obj, nn.Module) and obj.__module__ == custom.__name__}


def is_studio_module(m: nn.Module) -> bool:
    """True for studio's own modules, also when copied into generated source (same name, same code)."""
    cls = type(m)
    name = cls.__name__
    if name not in _CUSTOM:
        return False
    ours = getattr(custom, name)
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


def map_module(m: nn.Module, inputs: list) -> Mapped:
    """The catalog node for a call of a leaf module; Unsupported when there is none."""
    if is_studio_module(m):
        type_name, params = _custom_params(m)
        return Mapped(type_name, params, inputs)
    entry = MODULES.get(type(m))
    if entry is None:
        cls = type(m)
        raise Unsupported(f"no catalog entry for {cls.__module__}.{cls.__qualname__}")
    type_name, reader = entry
    params = reader(type_name, m)
    prefix = "rnn." if isinstance(m, RAW_RNN) else ""
    return Mapped(type_name, params, inputs, weight_prefix=prefix)


# --- functions and methods -------------------------------------------------------

def _bind(args: tuple, kwargs: dict, names: tuple[str, ...], defaults: dict) -> dict:
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update({k: v for k, v in kwargs.items() if k in names})
    return bound


def _unary(type_name: str, names: tuple[str, ...] = ("input",), defaults: dict | None = None,
           params: tuple[str, ...] = ()):
    """A function f(input, *params) that a catalog type computes with the same parameter names."""
    def rule(node: fx.Node, args: tuple, kwargs: dict, shapes) -> Mapped:
        b = _bind(args, kwargs, names, defaults or {})
        return Mapped(type_name, clean_params(type_name, {p: b[p] for p in params}), [b["input"]])
    return rule


def _binary(type_name: str):
    def rule(node, args, kwargs, shapes):
        a, b = args[0], args[1]
        if not (isinstance(a, fx.Node) and isinstance(b, fx.Node)) or kwargs.get("alpha", 1) != 1:
            raise Unsupported(f"{type_name} with a constant (only tensors from other layers can be combined)")
        return Mapped(type_name, {}, [a, b])
    return rule


def _merge(type_name: str):
    def rule(node, args, kwargs, shapes):
        b = _bind(args, kwargs, ("tensors", "dim"), {"dim": 0})
        tensors = list(b["tensors"])
        return Mapped(type_name, clean_params(type_name, {"inputs": len(tensors), "dim": b["dim"]}), tensors)
    return rule


def _pool_fn(type_name: str):
    names = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices") \
        if type_name.startswith("Max") else \
        ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

    def rule(node, args, kwargs, shapes):
        b = _bind(args, kwargs, names, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
                                        "return_indices": False, "count_include_pad": True,
                                        "divisor_override": None})
        if b["return_indices"] or not b["count_include_pad"] or b["divisor_override"] is not None:
            raise Unsupported(f"{node.target.__name__} with return_indices, count_include_pad or divisor_override")
        keep = [p for p in _settable(type_name)]
        if b["stride"] in ([], ()):
            b["stride"] = None
        return Mapped(type_name, clean_params(type_name, {p: b[p] for p in keep}), [b["input"]])
    return rule


def _mean(node, args, kwargs, shapes):
    b = _bind(args, kwargs, ("input", "dim", "keepdim"), {"dim": None, "keepdim": False})
    rank = len(shapes(b["input"]))
    dims = b["dim"]
    if dims is None:
        raise Unsupported("mean over every dimension (the batch included)")
    dims = [dims] if isinstance(dims, int) else list(dims)
    dims = sorted(d % rank for d in dims)
    if len(dims) == 1:
        return Mapped("Mean", clean_params("Mean", {"dim": dims[0], "keepdim": b["keepdim"]}), [b["input"]])
    if rank >= 3 and dims == list(range(2, rank)) and not b["keepdim"]:
        return Mapped("GlobalAvgPool", {}, [b["input"]])
    raise Unsupported(f"mean over dimensions {dims}")


def _reshape(node, args, kwargs, shapes):
    x = args[0]
    before, after = shapes(x), shapes(node)
    if not after or after[0] != before[0]:
        raise Unsupported(f"a reshape that changes the batch dimension ({list(before)} -> {list(after)})")
    if len(after) == 2 and len(before) >= 2:
        return Mapped("Flatten", {}, [x])
    return Mapped("Reshape", clean_params("Reshape", {"shape": list(after[1:])}), [x])


def _flatten(node, args, kwargs, shapes):
    b = _bind(args, kwargs, ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})
    if b["start_dim"] == 0:
        raise Unsupported("flatten from dimension 0 (it merges the batch; use flatten(1))")
    return Mapped("Flatten", clean_params("Flatten", {"start_dim": b["start_dim"], "end_dim": b["end_dim"]}),
                  [b["input"]])


def _permute(node, args, kwargs, shapes):
    dims = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
    dims = list(kwargs.get("dims", dims))
    return Mapped("Permute", clean_params("Permute", {"dims": dims}), [args[0]])


def _getitem(node, args, kwargs, shapes):
    x, index = args
    index = index if isinstance(index, tuple) else (index,)
    full = slice(None, None, None)
    dim = 0
    while dim < len(index) and index[dim] == full:
        dim += 1
    rest = index[dim:]
    if dim == 0 or len(rest) != 1:
        raise Unsupported(f"indexing with {index!r} (only x[:, i] or x[:, a:b] on one dimension after the batch)")
    item = rest[0]
    if isinstance(item, int):
        return Mapped("Select", clean_params("Select", {"dim": dim, "index": item}), [x])
    if isinstance(item, slice) and item.step in (None, 1) and all(isinstance(v, (int, type(None)))
                                                                   for v in (item.start, item.stop)):
        return Mapped("Slice", clean_params("Slice", {"dim": dim, "start": item.start or 0, "end": item.stop}), [x])
    raise Unsupported(f"indexing with {index!r}")


def _dropout(type_name: str):
    return _unary(type_name, ("input", "p", "training", "inplace"), {"p": 0.5}, ("p",))


def _pass(node, args, kwargs, shapes):
    return PASS


_ACT = {"relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh", "silu": "SiLU", "mish": "Mish",
        "selu": "SELU", "softsign": "Softsign", "hardswish": "Hardswish"}

FUNCTIONS: dict[Any, Callable] = {
    operator.add: _binary("Add"), operator.iadd: _binary("Add"), torch.add: _binary("Add"),
    operator.sub: _binary("Subtract"), torch.sub: _binary("Subtract"),
    operator.mul: _binary("Multiply"), torch.mul: _binary("Multiply"),
    operator.matmul: _binary("MatMul"), torch.matmul: _binary("MatMul"),
    torch.cat: _merge("Concat"), torch.concat: _merge("Concat"), torch.stack: _merge("Stack"),
    torch.flatten: _flatten, torch.reshape: _reshape, torch.mean: _mean, torch.permute: _permute,
    torch.transpose: _unary("Transpose", ("input", "dim0", "dim1"), {}, ("dim0", "dim1")),
    torch.squeeze: _unary("Squeeze", ("input", "dim"), {}, ("dim",)),
    torch.unsqueeze: _unary("Unsqueeze", ("input", "dim"), {}, ("dim",)),
    operator.getitem: _getitem,
    F.gelu: _unary("GELU", ("input", "approximate"), {"approximate": "none"}, ("approximate",)),
    F.leaky_relu: _unary("LeakyReLU", ("input", "negative_slope", "inplace"), {"negative_slope": 0.01},
                         ("negative_slope",)),
    F.elu: _unary("ELU", ("input", "alpha", "inplace"), {"alpha": 1.0}, ("alpha",)),
    F.celu: _unary("CELU", ("input", "alpha", "inplace"), {"alpha": 1.0}, ("alpha",)),
    F.softplus: _unary("Softplus", ("input", "beta", "threshold"), {"beta": 1.0, "threshold": 20.0},
                       ("beta", "threshold")),
    F.hardtanh: _unary("Hardtanh", ("input", "min_val", "max_val", "inplace"), {"min_val": -1.0, "max_val": 1.0},
                       ("min_val", "max_val")),
    F.softmax: _unary("Softmax", ("input", "dim"), {}, ("dim",)), torch.softmax: _unary("Softmax", ("input", "dim"), {}, ("dim",)),
    F.log_softmax: _unary("LogSoftmax", ("input", "dim"), {}, ("dim",)),
    torch.log_softmax: _unary("LogSoftmax", ("input", "dim"), {}, ("dim",)),
    F.dropout: _dropout("Dropout"), F.dropout2d: _dropout("Dropout2d"), F.alpha_dropout: _dropout("AlphaDropout"),
    F.adaptive_avg_pool1d: _unary("AdaptiveAvgPool1d", ("input", "output_size"), {}, ("output_size",)),
    F.adaptive_avg_pool2d: _unary("AdaptiveAvgPool2d", ("input", "output_size"), {}, ("output_size",)),
    F.adaptive_max_pool1d: _unary("AdaptiveMaxPool1d", ("input", "output_size"), {}, ("output_size",)),
    F.adaptive_max_pool2d: _unary("AdaptiveMaxPool2d", ("input", "output_size"), {}, ("output_size",)),
    **{getattr(F, f"{k}_pool{d}d"): _pool_fn(f"{k.capitalize()}Pool{d}d") for k in ("max", "avg") for d in (1, 2, 3)},
    # What studio's own compiled and generated code calls for max pooling.
    **{getattr(torch, f"max_pool{d}d"): _pool_fn(f"MaxPool{d}d") for d in (1, 2, 3)},
}
for _fn, _type in _ACT.items():
    FUNCTIONS[getattr(F, _fn)] = _unary(_type, ("input", "inplace"))
    if hasattr(torch, _fn):
        FUNCTIONS[getattr(torch, _fn)] = _unary(_type, ("input", "inplace"))

METHODS: dict[str, Callable] = {
    "add": _binary("Add"), "add_": _binary("Add"), "sub": _binary("Subtract"), "mul": _binary("Multiply"),
    "matmul": _binary("MatMul"),
    "flatten": _flatten, "view": _reshape, "reshape": _reshape, "mean": _mean, "permute": _permute,
    "transpose": _unary("Transpose", ("input", "dim0", "dim1"), {}, ("dim0", "dim1")),
    "squeeze": _unary("Squeeze", ("input", "dim"), {}, ("dim",)),
    "unsqueeze": _unary("Unsqueeze", ("input", "dim"), {}, ("dim",)),
    "softmax": _unary("Softmax", ("input", "dim"), {}, ("dim",)),
    "log_softmax": _unary("LogSoftmax", ("input", "dim"), {}, ("dim",)),
    "contiguous": _pass,
    **{k: _unary(v) for k, v in _ACT.items() if k in ("relu", "sigmoid", "tanh")},
    **{f"{k}_": _unary(v) for k, v in _ACT.items() if k in ("relu", "sigmoid", "tanh")},
}
# Calls that compute sizes, not tensors: the rules above read the shapes they lead to.
SHAPE_METHODS = {"size", "dim"}
