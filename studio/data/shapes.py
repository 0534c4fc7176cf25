"""``shapes``: generated greyscale images of simple shapes, one class per kind of shape.

Each image is ``(1, size, size)`` float32 in 0..1: a shape of random position,
size, rotation and brightness on a black background, drawn for all images at
once with tensor masks (no per-image loop).

Settings: ``n`` (1000 images), ``size`` (the Input node's height when it has
one, else 32), ``kinds`` (list from `KINDS`; default circle, square, triangle),
``noise`` (0.0, standard deviation of Gaussian pixel noise).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

# (dx, dy, r) -> inside mask; dx, dy are coordinates already rotated into the
# shape's frame, r its radius. Areas are kept comparable so size is no clue.
KINDS = {
    "circle": lambda dx, dy, r: dx**2 + dy**2 <= (0.85 * r) ** 2,
    "square": lambda dx, dy, r: torch.maximum(dx.abs(), dy.abs()) <= 0.75 * r,
    "triangle": lambda dx, dy, r: _triangle(dx, dy, r),
    "cross": lambda dx, dy, r: ((dx.abs() <= 0.25 * r) & (dy.abs() <= r)) | ((dy.abs() <= 0.25 * r) & (dx.abs() <= r)),
    "ring": lambda dx, dy, r: ((dx**2 + dy**2) <= r**2) & ((dx**2 + dy**2) >= (0.6 * r) ** 2),
}

DEFAULT_KINDS = ["circle", "square", "triangle"]


def _triangle(dx: torch.Tensor, dy: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    # An equilateral triangle of circumradius r is where the point lies within
    # r/2 (the inradius) along each of its three edge normals.
    inside = torch.ones_like(dx, dtype=torch.bool)
    for degrees in (-90.0, 30.0, 150.0):
        a = math.radians(degrees)
        inside &= dx * math.cos(a) + dy * math.sin(a) <= 0.5 * r
    return inside


def load_shapes(settings: dict, root: Path, input_shape) -> RawData:
    """Draw ``n`` random shapes, classes in the order of the ``kinds`` setting."""
    n = s.number(settings, "n", 1000, lo=2, integer=True)
    default_size = input_shape[-2] if input_shape is not None and len(input_shape) >= 2 else 32
    size = s.number(settings, "size", default_size, lo=4, hi=1024, integer=True)
    kinds = _kinds(settings.get("kinds", DEFAULT_KINDS))
    rng = torch.Generator().manual_seed(s.number(settings, "seed", 0, lo=0, integer=True))

    labels = (torch.arange(n) % len(kinds))[torch.randperm(n, generator=rng)]
    images = draw(labels, kinds, size, rng)
    noise = s.number(settings, "noise", 0.0, lo=0.0)
    if noise:
        images = (images + noise * torch.randn(images.shape, generator=rng)).clamp_(0.0, 1.0)
    return RawData(images, labels, "image", "classification", list(kinds))


def draw(labels: torch.Tensor, kinds: list[str], size: int, rng: torch.Generator) -> torch.Tensor:
    """Images ``(N, 1, size, size)`` with shape ``kinds[labels[i]]`` in image i."""
    n = len(labels)
    centre = (torch.rand(n, 2, 1, 1, generator=rng) - 0.5) * 0.7
    radius = 0.35 + 0.25 * torch.rand(n, 1, 1, generator=rng)
    angle = torch.rand(n, 1, 1, generator=rng) * 2 * math.pi
    brightness = 0.6 + 0.4 * torch.rand(n, 1, 1, generator=rng)

    axis = (torch.arange(size) + 0.5) / size * 2 - 1
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    px, py = gx - centre[:, 0], gy - centre[:, 1]
    dx = px * torch.cos(angle) + py * torch.sin(angle)
    dy = -px * torch.sin(angle) + py * torch.cos(angle)

    mask = torch.zeros(n, size, size, dtype=torch.bool)
    for index, kind in enumerate(kinds):
        mask |= KINDS[kind](dx, dy, radius) & (labels == index)[:, None, None]
    return (mask.float() * brightness).unsqueeze(1)


def _kinds(value) -> list[str]:
    if not isinstance(value, list) or len(value) < 2:
        raise DataError(f"data setting 'kinds' must list at least two of {', '.join(KINDS)}; got {value!r}")
    unknown = [k for k in value if k not in KINDS]
    if unknown or len(set(value)) != len(value):
        raise DataError(f"data setting 'kinds': {unknown or value!r} not allowed; "
                        f"pick distinct names from {', '.join(KINDS)}")
    return value
