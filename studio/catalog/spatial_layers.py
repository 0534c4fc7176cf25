"""The spatial layers: convolution, pooling, resampling and padding over 1-, 2- and 3-D samples.

Three tables `layers.SPECS` places in palette order: `CONVOLUTION`,
`POOLING`, `RESAMPLING`.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.catalog import modules as sm
from studio.catalog.spec import LayerSpec
from studio.catalog.table_helpers import P, channel_dim, inferred

_SAMPLE = {1: "C×L", 2: "C×H×W", 3: "C×D×H×W"}


def _conv(dim: int, transposed: bool) -> LayerSpec:
    kind = "ConvTranspose" if transposed else "Conv"
    cls = getattr(nn, f"{kind}{dim}d")
    params = [
        inferred("in_channels", channel_dim, "channels of the input"),
        P("out_channels", "int", 16, "number of filters", min=1, max=65536),
        P("kernel_size", "ints", 3, "filter size", min=1, max=1024),
        P("stride", "ints", 1, "step between windows", min=1, max=1024),
        P("padding", "ints", 0, "zeros added on each side ('same' keeps the size)", min=0, max=1024,
          choices=() if transposed else ("same", "valid")),
    ]
    if transposed:
        params.append(P("output_padding", "ints", 0, "extra size on one side of the output", min=0, max=1024))
    params += [
        P("dilation", "ints", 1, "spacing between filter taps", min=1, max=1024),
        P("groups", "int", 1, "blocked connections from input to output channels", min=1, max=65536),
        P("bias", "bool", True, "learn an additive bias"),
    ]
    if not transposed:
        params.append(P("padding_mode", "choice", "zeros", "how padding is filled",
                        choices=("zeros", "reflect", "replicate", "circular")))
    verb = "Transposed (up-sampling) convolution" if transposed else "Convolution"
    return LayerSpec(f"{kind}{dim}d", "Convolution", f"{verb} over {dim}-D inputs of shape {_SAMPLE[dim]}.",
                     tuple(params), module=cls, rank=dim + 2)


def _pool(kind: str, dim: int) -> LayerSpec:
    params = [P("kernel_size", "ints", 2, "window size", min=1, max=1024),
              P("stride", "ints", None, "step between windows (empty: the window size)", min=1, max=1024),
              P("padding", "ints", 0, "implicit padding on each side", min=0, max=512),
              P("ceil_mode", "bool", False, "round the output size up")]
    if kind == "Max":
        params.insert(3, P("dilation", "ints", 1, "spacing between window elements", min=1, max=64))
    name = "max" if kind == "Max" else "average"
    return LayerSpec(f"{kind}Pool{dim}d", "Pooling", f"The {name} of each {dim}-D window.",
                     tuple(params), module=getattr(nn, f"{kind}Pool{dim}d"), rank=dim + 2,
                     function=getattr(torch, f"max_pool{dim}d") if kind == "Max" else None,
                     call_kwargs=_pool_kwargs)


def _pool_kwargs(params: dict) -> dict:
    """torch.max_poolNd takes the window as the module does; an empty stride means the window."""
    return {k: v for k, v in params.items() if v is not None}


def _adaptive(kind: str, dim: int) -> LayerSpec:
    name = "max" if kind == "Max" else "average"
    return LayerSpec(f"Adaptive{kind}Pool{dim}d", "Pooling",
                     f"Pools to a fixed output size by the {name} of adaptive windows.",
                     (P("output_size", "ints", 1, "size of the output", min=1, max=4096),),
                     module=getattr(nn, f"Adaptive{kind}Pool{dim}d"), rank=dim + 2)


def _upsample(kw: dict) -> tuple[type, dict]:
    """nn.Upsample; align_corners only for the interpolating modes (torch refuses it for nearest)."""
    kw = dict(kw)
    if kw["mode"] not in _INTERPOLATING:
        kw["align_corners"] = None
    if kw.get("size") is not None:
        kw["scale_factor"] = None
    return nn.Upsample, kw


def _pad_kwargs(p: dict) -> dict:
    """F.pad takes a fill value only in constant mode."""
    return {"pad": list(p["padding"]), "mode": p["mode"], "value": p["value"] if p["mode"] == "constant" else None}


_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
_P_MODE = P("mode", "choice", "nearest", "interpolation", choices=("nearest", *_INTERPOLATING))
_P_CORNERS = P("align_corners", "bool", False, "align the corner pixels of input and output (linear modes)")


CONVOLUTION: tuple[LayerSpec, ...] = (
    *(_conv(d, t) for t in (False, True) for d in (1, 2, 3)),
)

POOLING: tuple[LayerSpec, ...] = (
    *(_pool(k, d) for k in ("Max", "Avg") for d in (1, 2, 3)),
    *(_adaptive(k, d) for k in ("Avg", "Max") for d in (1, 2)),
    LayerSpec("GlobalAvgPool", "Pooling", "Averages each channel over all positions: C×H×W → C.",
              module=sm.GlobalAvgPool, rank=(3, 4, 5)),
)

RESAMPLING: tuple[LayerSpec, ...] = (
    LayerSpec("Upsample", "Resampling", "Scales the spatial size up (or down) by a factor, or to a fixed size.",
              (P("scale_factor", "float", 2.0, "factor on each spatial dim", min=0.01, max=64.0), _P_MODE,
               _P_CORNERS, P("size", "shape", None, "a fixed output size instead of the factor", min=1)),
              module=nn.Upsample, build=_upsample, rank=(3, 4, 5)),
    LayerSpec("ResizeTo", "Resampling", "Interpolates the input to the spatial size of a second input (FPN, U-Net).",
              (_P_MODE, _P_CORNERS), inputs=("in", "like"), module=sm.ResizeTo, rank=(3, 4, 5)),
    LayerSpec("Pad", "Resampling", "Pads the last dimensions: [left, right] for the last, then the one before, ...",
              (P("padding", "shape", [1, 1], "sizes added (negative: removed), two per dimension, last first"),
               P("mode", "choice", "constant", "how the border is filled",
                 choices=("constant", "reflect", "replicate", "circular")),
               P("value", "float", 0.0, "fill value of constant mode")),
              function=nn.functional.pad, call_kwargs=_pad_kwargs),
    LayerSpec("PadTo", "Resampling", "Pads (or crops) the input to the spatial size of a second input (U-Net skips).",
              inputs=("in", "like"), module=sm.PadTo, rank=(3, 4, 5)),
    LayerSpec("PixelShuffle", "Resampling", "Moves channels into space: C·r²×H×W → C×rH×rW.",
              (P("upscale_factor", "int", 2, "r", min=1, max=64),), module=nn.PixelShuffle, rank=4),
    LayerSpec("ZeroPad2d", "Resampling", "Pads an image with zeros (one number, or left, right, top, bottom).",
              (P("padding", "ints", 1, "pixels", min=0, max=4096),), module=nn.ZeroPad2d, rank=(3, 4)),
    LayerSpec("ReflectionPad2d", "Resampling", "Pads an image by mirroring its border.",
              (P("padding", "ints", 1, "pixels", min=0, max=4096),), module=nn.ReflectionPad2d, rank=(3, 4)),
)
