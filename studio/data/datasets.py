"""The Dataset classes the splits are made of, besides torch's own `TensorDataset`.

- `TensorDataset` (torch): the usual case; every sample prepared in bulk up front.
- `LazyImages`: images kept in their stored form (often uint8) and prepared one
  at a time, for sets whose prepared float tensor would not fit in memory
  (CIFAR resized to 224×224, say).
- `TextWindows`: overlapping windows of a token stream, sliced on demand so a
  long text is not copied ``seq_len`` times.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.utils.data import Dataset


class LazyImages(Dataset):
    """Images prepared on access: ``prepare``, then normalise, then reshape.

    Args:
        x: stored images ``(N, C, H, W)``.
        y: targets ``(N, ...)``.
        prepare: maps a batch of stored images to float32 ``(B, C', H', W')``.
        mean, std: per-channel statistics ``(C',)``, or ``None`` to skip normalising.
        shape: the shape each sample is reshaped to.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, prepare: Callable, mean, std, shape: tuple[int, ...]):
        self.x, self.y, self.prepare, self.shape = x, y, prepare, shape
        self.mean = None if mean is None else torch.as_tensor(mean).view(-1, 1, 1)
        self.std = None if std is None else torch.as_tensor(std).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int):
        index = _check_index(index, len(self))
        image = self.prepare(self.x[index:index + 1])[0]
        if self.mean is not None:
            image = (image - self.mean) / self.std
        return image.reshape(self.shape), self.y[index]


class TextWindows(Dataset):
    """``(x, y)`` windows of a token stream: ``y`` is ``x`` shifted one token on.

    Args:
        tokens: int64 ids ``(T,)``.
        window: tokens per sample.
        stride: tokens between the starts of consecutive samples.
    """

    def __init__(self, tokens: torch.Tensor, window: int, stride: int = 1):
        self.tokens, self.window, self.stride = tokens, window, stride

    def __len__(self) -> int:
        return max(0, (len(self.tokens) - self.window - 1) // self.stride + 1)

    def __getitem__(self, index: int):
        start = _check_index(index, len(self)) * self.stride
        chunk = self.tokens[start:start + self.window + 1]
        return chunk[:-1], chunk[1:]


def _check_index(index: int, length: int) -> int:
    """``index`` as a non-negative position, Python-style; IndexError when out of range."""
    position = index + length if index < 0 else index
    if not 0 <= position < length:
        raise IndexError(f"index {index} out of range for {length} samples")
    return position
