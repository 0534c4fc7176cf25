"""How torch functions and tensor methods map back to catalog layer types (modules: `import_rules`).

A rule is called as ``rule(node, args, kwargs, sizes)`` for one traced call
(``sizes``: the `Sizes` of the trace, for shapes and size arithmetic) and
returns a `Mapped`, or `PASS` when the call returns its input unchanged
(``x.contiguous()``, ``torch.cat`` of a single tensor); Unsupported otherwise.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import fx

from studio.export.import_rules import PASS, Mapped, Unsupported, clean_params, settable
from studio.export.import_sizes import Sizes, grown

def _bind(args: tuple, kwargs: dict, names: tuple[str, ...], defaults: dict) -> dict:
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update({k: v for k, v in kwargs.items() if k in names})
    return bound


def _unary(type_name: str, names: tuple[str, ...] = ("input",), defaults: dict | None = None,
           params: tuple[str, ...] = ()):
    """A function f(input, *params) that a catalog type computes with the same parameter names."""
    def rule(node: fx.Node, args: tuple, kwargs: dict, sizes) -> Mapped:
        b = _bind(args, kwargs, names, defaults or {})
        return Mapped(type_name, clean_params(type_name, {p: b[p] for p in params}), [b["input"]])
    return rule


def _binary(type_name: str):
    """a + b (and -, *, @) of two layers' outputs; with a constant on one side, a ScalarOp."""
    def rule(node, args, kwargs, sizes):
        a, b = args[0], args[1]
        alpha = kwargs.get("alpha", args[2] if len(args) > 2 else 1)
        if isinstance(a, fx.Node) and isinstance(b, fx.Node) and sizes.info(a) and sizes.info(b) and alpha == 1:
            if type_name == "Power":
                raise Unsupported("a tensor raised to a tensor's power")
            return Mapped(type_name, {}, [a, b])
        return _scalar(type_name, a, b, sizes)
    return rule


_SCALAR_OPS = {("Add", False): "add", ("Add", True): "add", ("Subtract", False): "sub", ("Subtract", True): "rsub",
               ("Multiply", False): "mul", ("Multiply", True): "mul", ("Divide", False): "div",
               ("Power", False): "pow"}


def _scalar(type_name: str, a, b, sizes: Sizes) -> Mapped:
    tensor_first = isinstance(a, fx.Node) and sizes.info(a) is not None
    x, c = (a, b) if tensor_first else (b, a)
    op = _SCALAR_OPS.get((type_name, not tensor_first))
    if op is None or not isinstance(x, fx.Node) or sizes.info(x) is None:
        raise Unsupported(f"{type_name} with a constant in that order")
    if sizes.sources(c):
        raise Unsupported(f"{type_name} with a number computed from tensor sizes")
    value = sizes.value(c)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unsupported(f"{type_name} with {value!r} (only tensors from other layers or numbers can be combined)")
    return Mapped("ScalarOp", clean_params("ScalarOp", {"op": op, "value": float(value)}), [x])


def _merge(type_name: str):
    def rule(node, args, kwargs, sizes):
        b = _bind(args, kwargs, ("tensors", "dim"), {"dim": 0})
        tensors = list(b["tensors"])
        if len(tensors) == 1 and type_name == "Concat":  # DenseNet's first layer joins a list of one
            return PASS
        return Mapped(type_name, clean_params(type_name, {"inputs": len(tensors), "dim": b["dim"]}), tensors)
    return rule


def _pool_fn(type_name: str):
    names = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices") \
        if type_name.startswith("Max") else \
        ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

    def rule(node, args, kwargs, sizes):
        b = _bind(args, kwargs, names, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
                                        "return_indices": False, "count_include_pad": True,
                                        "divisor_override": None})
        if b["return_indices"] or not b["count_include_pad"] or b["divisor_override"] is not None:
            raise Unsupported(f"{node.target.__name__} with return_indices, count_include_pad or divisor_override")
        keep = settable(type_name)
        if b["stride"] in ([], ()):
            b["stride"] = None
        return Mapped(type_name, clean_params(type_name, {p: b[p] for p in keep}), [b["input"]])
    return rule


def _mean(node, args, kwargs, sizes):
    b = _bind(args, kwargs, ("input", "dim", "keepdim"), {"dim": None, "keepdim": False})
    rank = len(sizes(b["input"]))
    dims = b["dim"]
    if dims is None:
        raise Unsupported("mean over every dimension (the batch included)")
    dims = [dims] if isinstance(dims, int) else list(dims)
    dims = sorted(d % rank for d in dims)
    if len(dims) == 1:
        return Mapped("Mean", clean_params("Mean", {"dim": dims[0], "keepdim": b["keepdim"]}), [b["input"]])
    if rank >= 3 and dims == list(range(2, rank)) and not b["keepdim"]:
        return Mapped("GlobalAvgPool", {}, [b["input"]])
    if rank in (3, 4) and dims == list(range(2, rank)):  # squeeze-and-excitation: x.mean((2, 3), keepdim=True)
        return Mapped(f"AdaptiveAvgPool{rank - 2}d", {}, [b["input"]])
    raise Unsupported(f"mean over dimensions {dims}")


def _reshape(node, args, kwargs, sizes):
    x = args[0]
    before, after = sizes(x), sizes(node)
    if not after or after[0] != before[0]:
        raise Unsupported(f"a reshape that changes the batch dimension ({list(before)} -> {list(after)})")
    if len(after) == 2 and len(before) >= 2:
        return Mapped("Flatten", {}, [x])
    return Mapped("Reshape", clean_params("Reshape", {"shape": list(after[1:])}), [x])


def _flatten(node, args, kwargs, sizes):
    b = _bind(args, kwargs, ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})
    if b["start_dim"] == 0:
        raise Unsupported("flatten from dimension 0 (it merges the batch; use flatten(1))")
    return Mapped("Flatten", clean_params("Flatten", {"start_dim": b["start_dim"], "end_dim": b["end_dim"]}),
                  [b["input"]])


def _permute(node, args, kwargs, sizes):
    dims = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
    dims = list(kwargs.get("dims", dims))
    return Mapped("Permute", clean_params("Permute", {"dims": dims}), [args[0]])


def _getitem(node, args, kwargs, sizes):
    x, index = args
    index = index if isinstance(index, tuple) else (index,)
    full = slice(None, None, None)
    while index and index[-1] == full:  # out[:, -1, :] is out[:, -1]
        index = index[:-1]
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


def _pass(node, args, kwargs, sizes):
    return PASS


def pad_to(shape: tuple[int, ...], like: tuple[int, ...]) -> list[int]:
    """The F.pad amounts that PadTo uses to bring `shape` to `like` (last dimension first)."""
    pad = []
    for d in range(len(shape) - 1, 1, -1):
        diff = like[d] - shape[d]
        pad += [diff // 2, diff - diff // 2]
    return pad


def _follows(sizes: Sizes, value, x: fx.Node, like: fx.Node, want) -> bool:
    """True when `value` equals want(shape of x, shape of like) on the example and on two other shapes."""
    for by_x, by_like in ((0, 0), (1, 3), (2, 7)):
        probe = {x: grown(sizes(x), by_x), like: grown(sizes(like), by_like)}
        try:
            if list(sizes.evaluate(value, probe)) != list(want(probe[x], probe[like])):
                return False
        except (Unsupported, TypeError, IndexError):
            return False
    return True


def _other(sizes: Sizes, value, x: fx.Node) -> fx.Node | None:
    """The one tensor other than `x` whose sizes `value` reads, if it is just one."""
    others = sizes.sources(value) - {x}
    return others.pop() if len(others) == 1 else None


def _pad(node, args, kwargs, sizes: Sizes):
    b = _bind(args, kwargs, ("input", "pad", "mode", "value"), {"mode": "constant", "value": None})
    x, amounts = b["input"], b["pad"]
    if not sizes.sources(amounts):
        fill = float(b["value"] or 0.0)
        return Mapped("Pad", clean_params("Pad", {"padding": list(sizes.value(amounts)), "mode": b["mode"],
                                                  "value": fill}), [x])
    like = _other(sizes, amounts, x)
    if like is not None and b["mode"] == "constant" and not b["value"] and \
            _follows(sizes, amounts, x, like, pad_to):
        return Mapped("PadTo", {}, [x, like])
    raise Unsupported("padding computed from tensor sizes other than 'to the size of another tensor' "
                      "(as U-Net pads: diff // 2 before, the rest after)")


def _interpolate(node, args, kwargs, sizes: Sizes):
    names = ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias")
    b = _bind(args, kwargs, names, {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None,
                                    "recompute_scale_factor": None, "antialias": False})
    if b["antialias"] or b["recompute_scale_factor"]:
        raise Unsupported("interpolate with antialias or recompute_scale_factor")
    x, size, corners = b["input"], b["size"], bool(b["align_corners"])
    common = {"mode": b["mode"], "align_corners": corners}
    if size is None:
        scale = b["scale_factor"]
        scale = scale[0] if isinstance(scale, (tuple, list)) and len(set(scale)) == 1 else scale
        if not isinstance(scale, (int, float)):
            raise Unsupported(f"interpolate with scale factors {scale!r} (the catalog takes one factor)")
        return Mapped("Upsample", clean_params("Upsample", {"scale_factor": float(scale), **common}), [x])
    if not sizes.sources(size):
        size = sizes.value(size)
        return Mapped("Upsample", clean_params("Upsample", {"size": [size] if isinstance(size, int) else list(size),
                                                            **common}), [x])
    like = _other(sizes, size, x)
    if like is not None and _follows(sizes, size, x, like, lambda s, t: t[2:]):
        return Mapped("ResizeTo", clean_params("ResizeTo", common), [x, like])
    raise Unsupported("interpolate to a size computed other than 'the size of another tensor'")


_ACT = {"relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh", "silu": "SiLU", "mish": "Mish",
        "selu": "SELU", "softsign": "Softsign", "hardswish": "Hardswish"}

FUNCTIONS: dict[Any, Callable] = {
    operator.add: _binary("Add"), operator.iadd: _binary("Add"), torch.add: _binary("Add"),
    operator.sub: _binary("Subtract"), torch.sub: _binary("Subtract"),
    operator.mul: _binary("Multiply"), torch.mul: _binary("Multiply"),
    operator.matmul: _binary("MatMul"), torch.matmul: _binary("MatMul"),
    operator.truediv: _binary("Divide"), torch.div: _binary("Divide"), operator.pow: _binary("Power"),
    torch.pow: _binary("Power"),
    torch.cat: _merge("Concat"), torch.concat: _merge("Concat"), torch.stack: _merge("Stack"),
    torch.flatten: _flatten, torch.reshape: _reshape, torch.mean: _mean, torch.permute: _permute,
    torch.transpose: _unary("Transpose", ("input", "dim0", "dim1"), {}, ("dim0", "dim1")),
    torch.squeeze: _unary("Squeeze", ("input", "dim"), {}, ("dim",)),
    torch.unsqueeze: _unary("Unsqueeze", ("input", "dim"), {}, ("dim",)),
    operator.getitem: _getitem,
    torch.select: _unary("Select", ("input", "dim", "index"), {}, ("dim", "index")),
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
    F.pad: _pad, F.interpolate: _interpolate, F.upsample: _interpolate,
    # What studio's own compiled and generated code calls for max pooling.
    **{getattr(torch, f"max_pool{d}d"): _pool_fn(f"MaxPool{d}d") for d in (1, 2, 3)},
}
for _fn, _type in _ACT.items():
    FUNCTIONS[getattr(F, _fn)] = _unary(_type, ("input", "inplace"))
    if hasattr(torch, _fn):
        FUNCTIONS[getattr(torch, _fn)] = _unary(_type, ("input", "inplace"))

METHODS: dict[str, Callable] = {
    "add": _binary("Add"), "add_": _binary("Add"), "sub": _binary("Subtract"), "mul": _binary("Multiply"),
    "mul_": _binary("Multiply"), "div": _binary("Divide"), "pow": _binary("Power"),
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
