"""What the gan recipe shows of its generator: samples from a fixed noise batch, and mode coverage.

At each validation the generator runs on the same noise (seeded, so successive
epochs are comparable): ``samples_xy`` (a list of [x, y] points) for 2-D data,
``samples_images`` (C×H×W nested lists in 0..1) for images. For 2-D data with
class labels whose classes are modes (the ``ring`` source), ``mode_share``
(share of samples within 3σ of a mode's centre) and ``modes_covered`` (modes
that received at least a fifth of their fair share of such samples); centres
and σ are measured on the split itself.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from studio.train.metrics import thumbnails

# Samples made from the fixed noise at each evaluation: points, images.
POINT_SAMPLES = 512
IMAGE_SAMPLES = 16
# Seed of the fixed noise, so the samples of successive epochs are comparable.
FIXED_NOISE_SEED = 1234


def fixed_noise(noise_shape: tuple[int, ...], images: bool, device: torch.device) -> torch.Tensor:
    """The noise batch every evaluation's samples are made from: the same at each epoch."""
    count = POINT_SAMPLES if not images else IMAGE_SAMPLES
    rng = torch.Generator().manual_seed(FIXED_NOISE_SEED)
    return torch.randn(count, *noise_shape, generator=rng).to(device)


def pictures(generator: nn.Module, noise: torch.Tensor, images: bool,
             reals: list[torch.Tensor], labels: list[torch.Tensor]) -> dict[str, Any]:
    """The generator's samples from ``noise`` as the dashboard draws them; with ``reals``
    (2-D points and their class labels), the mode figures too."""
    out: dict[str, Any] = {}
    fake = generator(noise).float().cpu()
    if images:
        out["samples_images"] = thumbnails(((fake + 1) / 2).clamp(0, 1), None, None)
    elif fake.dim() == 2 and fake.shape[1] == 2:
        out["samples_xy"] = torch.round(fake * 1e4).div(1e4).tolist()
        if reals:
            centres, sigma = mode_geometry(torch.cat(reals), torch.cat(labels))
            out.update(mode_quality(fake, centres, sigma))
    return out


def is_points(data: Any) -> bool:
    """Whether the data are 2-D points with class labels: the data the mode figures are for."""
    return tuple(data.input_shape) == (2,) and data.task == "classification"


def mode_geometry(points: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class centres ``(K, 2)`` and the pooled per-coordinate standard deviation."""
    present, index = labels.unique(return_inverse=True)
    centres = torch.stack([points[labels == k].mean(0) for k in present.tolist()])
    spread = (points - centres[index]).pow(2).mean().sqrt()
    return centres, spread


def mode_quality(samples: torch.Tensor, centres: torch.Tensor, sigma: float | torch.Tensor) -> dict[str, float]:
    """``mode_share``: share of samples within 3σ of their nearest centre; ``modes_covered``:
    centres that got at least a fifth of their fair share (len / K) of those samples."""
    dist = torch.cdist(samples.float(), centres.float())
    nearest, which = dist.min(1)
    good = nearest <= 3 * float(sigma)
    counts = torch.bincount(which[good], minlength=len(centres))
    needed = max(1, math.ceil(len(samples) / len(centres) / 5))
    return {"mode_share": float(good.float().mean()), "modes_covered": int((counts >= needed).sum())}
