"""Fitting samples to the shape the network's Input node expects.

Images ``(C, H, W)`` fit any Input shape of the following kinds:

- ``(C', H', W')``: channels matched (grey → RGB by repeating, RGB → grey by
  the mean of the channels), then resized to H'×W' (bilinear, antialiased).
- ``(H', W')``: as ``(1, H', W')`` without the channel dimension (for models
  that read an image row by row).
- ``(F,)``: flattened; the image keeps its size when ``C×H×W = F``, else it is
  resized to the square ``sqrt(F / C)`` (or grey ``sqrt(F)``) when that is whole.

Vectors ``(F,)`` fit any shape with ``F`` values in all (reshaped to it);
token sequences ``(L,)`` only ``(L,)``. Anything else is a `DataError` that
says what the source gives and what to set the Input node to.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from studio.errors import DataError


@dataclass(frozen=True)
class ImageFit:
    """How images become samples: ``prepare`` gives ``image_shape``, then reshape to ``shape``."""

    image_shape: tuple[int, int, int]
    shape: tuple[int, ...]
    prepare: Callable[[torch.Tensor], torch.Tensor]


def fit_images(native: tuple[int, int, int], input_shape, where: str) -> ImageFit:
    """Plan the channel change, resize and reshape from ``native`` ``(C, H, W)`` to ``input_shape``."""
    image_shape = _image_target(native, tuple(input_shape) if input_shape is not None else None, where)
    shape = tuple(input_shape) if input_shape is not None else image_shape
    prepare = functools.partial(prepare_images, channels=image_shape[0], size=image_shape[1:], where=where)
    return ImageFit(image_shape, shape, prepare)


def _image_target(native, input_shape, where: str) -> tuple[int, int, int]:
    c, h, w = native
    if input_shape is None:
        return native
    if len(input_shape) == 3:
        if input_shape[0] not in (1, 3, c):
            raise DataError(f"{where}: images have {c} channel(s); the Input node asks for {input_shape[0]}, "
                            "but only 1 (grey) or 3 (RGB) can be converted to; set the Input channels to 1 or 3")
        return tuple(input_shape)
    if len(input_shape) == 2:
        return (1, *input_shape)
    if len(input_shape) == 1:
        size = input_shape[0]
        if size == c * h * w:
            return native
        for channels in (c, 1):
            side = math.isqrt(size // channels)
            if size % channels == 0 and side * side * channels == size:
                return (channels, side, side)
    raise DataError(f"{where}: images of shape {native} cannot fit the Input node's shape {input_shape}; "
                    f"set the Input shape to {list(native)} (or {[c * h * w]} for flattened images)")


def prepare_images(x: torch.Tensor, channels: int, size: tuple[int, int], where: str = "images") -> torch.Tensor:
    """Stored images ``(N, C, H, W)`` to float32 in 0..1 with ``channels`` channels and ``size``."""
    x = x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
    if x.shape[1] != channels and x.shape[1] != 1 and channels != 1:
        raise DataError(f"{where}: cannot turn {x.shape[1]}-channel images into {channels} channels")
    # Reduce channels before resizing and repeat them after, so the resize runs on one channel.
    if channels == 1 and x.shape[1] != 1:
        x = x.mean(dim=1, keepdim=True)
    if tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    if x.shape[1] != channels:
        x = x.expand(-1, channels, -1, -1)
    return x.contiguous()


def fit_vectors(features: int, input_shape, where: str) -> tuple[int, ...]:
    """The shape ``features``-long vectors take for ``input_shape`` (checked)."""
    if input_shape is None:
        return (features,)
    if math.prod(input_shape) != features:
        raise DataError(f"{where}: each sample has {features} features but the Input node expects shape "
                        f"{tuple(input_shape)} ({math.prod(input_shape)} values); set the Input shape to "
                        f"[{features}] or choose other feature columns")
    return tuple(input_shape)


def fit_tokens(length: int, input_shape, where: str) -> tuple[int, ...]:
    """The shape of ``length``-token sequences, checked against ``input_shape``."""
    if input_shape is not None and tuple(input_shape) != (length,):
        raise DataError(f"{where}: sequences have {length} tokens but the Input node expects shape "
                        f"{tuple(input_shape)}; set the Input shape to [{length}]")
    return (length,)
