"""The figures a compression is judged by: file size, parameters, FLOPs, accuracy, latency.

`accuracy` is plain top-1 accuracy of a callable on a dataset (a stand-in
that the evaluation module's metrics may replace); `latency_ms` is the median
time of one call at a batch size, on one thread, so runs compare fairly on a
shared machine.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch
from torch.utils.data import DataLoader, Dataset

from studio.train.rl_env import one_cpu_thread

Predict = Callable[[torch.Tensor], torch.Tensor]
"""A model as the figures see it: a batch in, scores (logits) out."""

EVAL_BATCH = 256


@dataclass
class Figures:
    """One side of a compression.

    Attributes:
        size_bytes: the size of the file a user deploys (weights, or the ONNX file).
        params: parameters; for unstructured pruning, those that are not zero.
        flops: forward FLOPs per sample (the shape analysis's count).
        accuracy: top-1 accuracy on the held-out split (None when the task has no classes).
        latency_ms: median milliseconds per call at batch 1, on one thread.
        latency32_ms: the same at batch 32.
    """

    size_bytes: int
    params: int
    flops: int
    accuracy: float | None
    latency_ms: float
    latency32_ms: float

    def to_dict(self) -> dict:
        """JSON-native, as `studio compress --json` prints it."""
        return asdict(self)


def accuracy(predict: Predict, dataset: Dataset | None) -> float | None:
    """Top-1 accuracy of `predict` over `dataset` (pairs of input and class); None without one."""
    if dataset is None or len(dataset) == 0:
        return None
    right = 0
    with torch.inference_mode():
        for x, y in DataLoader(dataset, batch_size=EVAL_BATCH):
            right += int((predict(x).argmax(-1) == y).sum())
    return right / len(dataset)


def latency_ms(predict: Predict, sample: torch.Tensor, batch: int, repeats: int = 20) -> float:
    """Median milliseconds of one call on a batch of `batch` copies of `sample` (one warm-up call)."""
    x = sample.unsqueeze(0).expand(batch, *sample.shape).contiguous()
    times = []
    with torch.inference_mode(), one_cpu_thread(torch.device("cpu")):  # a shared CPU times fairly
        predict(x)
        for _ in range(repeats):
            start = time.perf_counter()
            predict(x)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def figures(predict: Predict, dataset: Dataset | None, sample: torch.Tensor, size_bytes: int,
            params: int, flops: int, repeats: int = 20) -> Figures:
    """Measures `predict`: accuracy on `dataset`, latency at batch 1 and 32 on `sample`."""
    return Figures(size_bytes, params, flops, accuracy(predict, dataset),
                   latency_ms(predict, sample, 1, repeats), latency_ms(predict, sample, 32, repeats))
