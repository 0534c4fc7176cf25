"""Normalisation statistics, always measured on the training split alone.

Images get one mean and standard deviation per channel, vectors one per
feature; token ids are never normalised. Standard deviations are population
ones (divide by N). A channel or feature that never varies gets std 1, so it
is centred rather than divided by zero.
"""

from __future__ import annotations

from typing import Iterable

import torch

MIN_STD = 1e-8


def image_moments(batches: Iterable[torch.Tensor]) -> tuple[list[float], list[float]]:
    """Per-channel mean and std over batches ``(B, C, H, W)``, accumulated in float64.

    Taking an iterable lets a set too large to prepare at once be measured chunk by chunk.
    """
    count, total, squares = 0, 0.0, 0.0
    for batch in batches:
        batch = batch.double()
        count += batch.numel() // batch.shape[1]
        total = total + batch.sum(dim=(0, 2, 3))
        squares = squares + (batch * batch).sum(dim=(0, 2, 3))
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(0).sqrt()
    return mean.tolist(), _safe(std).tolist()


def vector_moments(x: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-feature mean and std of ``(N, F)`` vectors."""
    std, mean = torch.std_mean(x.double(), dim=0, correction=0)
    return mean.tolist(), _safe(std).tolist()


def _safe(std: torch.Tensor) -> torch.Tensor:
    return torch.where(std < MIN_STD, torch.ones_like(std), std)


def apply(x: torch.Tensor, mean: list[float], std: list[float], channel_dim: int,
          inplace: bool = False) -> torch.Tensor:
    """``(x - mean) / std`` along ``channel_dim`` (1 for images, -1 for vectors).

    ``inplace`` saves a copy of a large image tensor the caller owns.
    """
    view = [1] * x.dim()
    view[channel_dim] = -1
    mean_t = torch.tensor(mean, dtype=x.dtype).view(view)
    std_t = torch.tensor(std, dtype=x.dtype).view(view)
    return x.sub_(mean_t).div_(std_t) if inplace else (x - mean_t) / std_t
