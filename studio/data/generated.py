"""Small synthetic data sets, generated from the ``seed`` setting, for trying ideas fast.

Point sets (float32 2-D points unless said otherwise, classification):

- ``xor``: points in the square [-1, 1]², class 1 where x and y have opposite
  signs. Settings: ``n`` (400), ``noise`` (0.05, jitter added after labelling).
- ``spirals``: two interleaved spirals. Settings: ``n`` (400), ``noise`` (0.05),
  ``turns`` (1.5).
- ``moons``: two interleaving half circles. Settings: ``n`` (400), ``noise`` (0.1).
- ``circles``: a small circle inside a large one. Settings: ``n`` (400),
  ``noise`` (0.05), ``factor`` (0.5, inner radius / outer radius).
- ``blobs``: Gaussian blobs, one per class. Settings: ``n`` (600), ``classes``
  (3), ``features`` (2, or the Input node's size when it is 1-D), ``spread`` (1.0,
  the standard deviation of each blob; centres lie in [-5, 5]).
- ``ring``: a mixture of Gaussians evenly spaced on a circle, the classic test of
  whether a GAN covers every mode; the class is the mode. Settings: ``n``
  (2000), ``modes`` (8), ``radius`` (2.0), ``std`` (0.02, of each Gaussian).

Token sequences:

- ``sequences``: int64 token ids in ``0 .. vocab-1``, shape ``(length,)``; the
  label is 1 when the sequence holds more 7s than 3s, so a model must count over
  the whole sequence. Settings: ``n`` (2000), ``length`` (20, or the Input
  node's length), ``vocab`` (10, at least 8).

Classes are balanced for the point sets; ``sequences`` is about 37/63.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError


def _rng(settings: dict) -> torch.Generator:
    return torch.Generator().manual_seed(s.number(settings, "seed", 0, lo=0, integer=True))


def _balanced_labels(n: int, classes: int, rng: torch.Generator) -> torch.Tensor:
    return (torch.arange(n) % classes)[torch.randperm(n, generator=rng)]


def _points(x: torch.Tensor, y: torch.Tensor, classes: int) -> RawData:
    return RawData(x.float(), y.long(), "vector", "classification", [str(i) for i in range(classes)])


def _jitter(points: torch.Tensor, settings: dict, default: float, rng: torch.Generator) -> torch.Tensor:
    noise = s.number(settings, "noise", default, lo=0.0)
    return points + noise * torch.randn(points.shape, generator=rng)


def load_xor(settings: dict, root: Path, input_shape) -> RawData:
    """XOR of the signs of two coordinates."""
    rng = _rng(settings)
    n = s.number(settings, "n", 400, lo=4, integer=True)
    points = torch.rand(n, 2, generator=rng) * 2 - 1
    labels = (points[:, 0] * points[:, 1] < 0).long()
    return _points(_jitter(points, settings, 0.05, rng), labels, 2)


def load_spirals(settings: dict, root: Path, input_shape) -> RawData:
    """Two spirals wound around each other; needs a non-linear boundary."""
    rng = _rng(settings)
    n = s.number(settings, "n", 400, lo=4, integer=True)
    turns = s.number(settings, "turns", 1.5, lo=0.1)
    labels = _balanced_labels(n, 2, rng)
    t = 0.05 + 0.95 * torch.rand(n, generator=rng)
    angle = t * turns * 2 * math.pi + labels * math.pi
    points = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1)
    return _points(_jitter(points, settings, 0.05, rng), labels, 2)


def load_moons(settings: dict, root: Path, input_shape) -> RawData:
    """Two interleaving half circles."""
    rng = _rng(settings)
    n = s.number(settings, "n", 400, lo=4, integer=True)
    labels = _balanced_labels(n, 2, rng)
    t = torch.rand(n, generator=rng) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
    points = torch.where(labels[:, None] == 0, upper, lower)
    return _points(_jitter(points, settings, 0.1, rng), labels, 2)


def load_circles(settings: dict, root: Path, input_shape) -> RawData:
    """A small circle (class 1) inside a large one (class 0)."""
    rng = _rng(settings)
    n = s.number(settings, "n", 400, lo=4, integer=True)
    factor = s.number(settings, "factor", 0.5, lo=0.0, hi=0.99)
    labels = _balanced_labels(n, 2, rng)
    t = torch.rand(n, generator=rng) * 2 * math.pi
    radius = torch.where(labels == 1, factor, 1.0)
    points = torch.stack([torch.cos(t), torch.sin(t)], dim=1) * radius[:, None]
    return _points(_jitter(points, settings, 0.05, rng), labels, 2)


def load_blobs(settings: dict, root: Path, input_shape) -> RawData:
    """Gaussian blobs around random centres, one per class."""
    rng = _rng(settings)
    n = s.number(settings, "n", 600, lo=2, integer=True)
    classes = s.number(settings, "classes", 3, lo=2, integer=True)
    default_features = input_shape[0] if input_shape is not None and len(input_shape) == 1 else 2
    features = s.number(settings, "features", default_features, lo=1, integer=True)
    spread = s.number(settings, "spread", 1.0, lo=0.0)
    centres = torch.rand(classes, features, generator=rng) * 10 - 5
    labels = _balanced_labels(n, classes, rng)
    points = centres[labels] + spread * torch.randn(n, features, generator=rng)
    return _points(points, labels, classes)


def load_ring(settings: dict, root: Path, input_shape) -> RawData:
    """Gaussians of equal weight evenly spaced on a circle; the label is the mode."""
    rng = _rng(settings)
    n = s.number(settings, "n", 2000, lo=2, integer=True)
    modes = s.number(settings, "modes", 8, lo=2, integer=True)
    radius = s.number(settings, "radius", 2.0, lo=0.0)
    std = s.number(settings, "std", 0.02, lo=0.0)
    labels = _balanced_labels(n, modes, rng)
    angle = labels.double() * (2 * math.pi / modes)
    centres = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1) * radius
    points = centres + std * torch.randn(n, 2, generator=rng, dtype=torch.float64)
    return _points(points, labels, modes)


def load_sequences(settings: dict, root: Path, input_shape) -> RawData:
    """Token sequences labelled by whether 7 occurs more often than 3."""
    rng = _rng(settings)
    n = s.number(settings, "n", 2000, lo=2, integer=True)
    default_length = input_shape[0] if input_shape is not None and len(input_shape) == 1 else 20
    length = s.number(settings, "length", default_length, lo=1, integer=True)
    vocab = s.number(settings, "vocab", 10, lo=8, integer=True)
    if input_shape is not None and tuple(input_shape) != (length,):
        raise DataError(f"data source 'sequences' makes sequences of shape ({length},) but the Input "
                        f"node expects {tuple(input_shape)}; set the Input shape to [{length}] "
                        "or the data setting 'length' to match")
    tokens = torch.randint(0, vocab, (n, length), generator=rng)
    labels = ((tokens == 7).sum(1) > (tokens == 3).sum(1)).long()
    return RawData(tokens, labels, "tokens", "classification", ["not more 7s", "more 7s"])
