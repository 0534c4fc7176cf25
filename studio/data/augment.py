"""Training-time augmentation in torch, applied per sample as the train split is read.

Options (the ``augment`` setting), each off by default, applied in this order:

- ``flip`` (bool): mirror left-right with probability 0.5.
- ``crop_padding`` (int pixels): pad with zeros on every side, then cut a
  random window of the original size.
- ``rotation`` (degrees): rotate by a uniform random angle in ±rotation
  (``affine_grid`` + ``grid_sample``, bilinear, zeros outside).
- ``noise`` (std): add Gaussian noise.

The first three need images; ``noise`` works on any float samples. Randomness
comes from torch's global generator, which DataLoader seeds per worker.
Validation and test splits are never wrapped.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from studio.errors import DataError

GEOMETRIC = ("flip", "crop_padding", "rotation")  # the options that need an image


def _flip(x: torch.Tensor, on: bool) -> torch.Tensor:
    return x.flip(-1) if torch.rand(()) < 0.5 else x


def _crop(x: torch.Tensor, pad: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    padded = F.pad(x, (pad, pad, pad, pad))
    top, left = (int(torch.randint(0, 2 * pad + 1, ())) for _ in range(2))
    return padded[..., top:top + h, left:left + w]


def _rotate(x: torch.Tensor, degrees: float) -> torch.Tensor:
    angle = math.radians(degrees) * (2 * float(torch.rand(())) - 1)
    cos, sin = math.cos(angle), math.sin(angle)
    theta = torch.tensor([[[cos, -sin, 0.0], [sin, cos, 0.0]]], dtype=x.dtype)
    grid = F.affine_grid(theta, [1, *x.shape], align_corners=False)
    return F.grid_sample(x[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]


def _noise(x: torch.Tensor, std: float) -> torch.Tensor:
    return x + std * torch.randn_like(x)


# name -> (default, type, apply(sample, amount)), in the order they are applied.
OPTIONS = {
    "flip": (False, bool, _flip),
    "crop_padding": (0, int, _crop),
    "rotation": (0.0, float, _rotate),
    "noise": (0.0, float, _noise),
}


def active_options(augment, where: str) -> dict:
    """The options that are on, checked; ``{}`` when augmentation is off."""
    if augment is None:
        return {}
    if not isinstance(augment, dict):
        raise DataError(f"{where}: data setting 'augment' must be an object such as {{\"flip\": true}}, got {augment!r}")
    unknown = sorted(set(augment) - set(OPTIONS))
    if unknown:
        raise DataError(f"{where}: unknown augment option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    active = {}
    for name, (default, kind, _) in OPTIONS.items():
        value = augment.get(name, default)
        bad_type = isinstance(value, bool) != (kind is bool) or not isinstance(value, (int, float))
        if bad_type or (kind is int and not isinstance(value, int)) or value < 0:
            raise DataError(f"{where}: augment option '{name}' must be a non-negative {kind.__name__}, got {value!r}")
        if value:
            active[name] = value
    return active


class Augmented(Dataset):
    """A dataset whose samples are augmented each time they are read.

    Args:
        dataset: yields ``(x, y)`` with float ``x`` of any shape.
        options: from `active_options`.
        image_shape: ``(C, H, W)`` that ``x`` is viewed as for the geometric
            options (``x`` may be flattened); ``None`` when ``x`` is not an image.
    """

    def __init__(self, dataset: Dataset, options: dict, image_shape: tuple[int, int, int] | None):
        self.dataset, self.options, self.image_shape = dataset, options, image_shape

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        x, y = self.dataset[index]
        shape = x.shape
        if self.image_shape is not None:
            x = x.reshape(self.image_shape)
        for name, amount in self.options.items():
            x = OPTIONS[name][2](x, amount)
        return x.reshape(shape), y
