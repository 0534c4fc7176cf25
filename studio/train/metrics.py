"""Epoch metrics computed from a whole evaluation pass.

Classification: accuracy, macro F1, the confusion matrix (rows are true
classes) and per-class precision, recall and F1.
Regression: mean absolute error, root mean squared error and R².
`thumbnails` turns a few image inputs into small nested lists a dashboard can
draw. Values are plain Python numbers and lists, ready for JSON.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

# Largest thumbnail side sent with the sample predictions.
THUMBNAIL_SIDE = 32

# Metrics that are better when larger; the rest (losses, errors) when smaller.
HIGHER_IS_BETTER = ("accuracy", "f1", "r2", "precision", "recall", "return", "exact_match", "mode_share", "modes_covered")


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` (e.g. ``val_accuracy``) is better."""
    return any(metric.endswith(suffix) for suffix in HIGHER_IS_BETTER)


def classification_metrics(preds: torch.Tensor, targets: torch.Tensor,
                           num_classes: int) -> dict[str, Any]:
    """Accuracy, macro F1, confusion matrix and per-class precision/recall/F1.

    The same figures as scikit-learn's ``precision_recall_fscore_support`` and
    ``confusion_matrix`` with ``labels=range(num_classes)`` and
    ``zero_division=0``, counted with one ``bincount``: scikit-learn's input
    checks cost more than a small model's whole validation pass.

    Args:
        preds: predicted class indices, 1-D, any device.
        targets: true class indices, same length.
        num_classes: classes the model knows, so every matrix has that size;
            a prediction outside them counts against its true class only.
    """
    p = preds.detach().cpu().long().flatten()
    t = targets.detach().cpu().long().flatten()
    n = num_classes
    known_t = (t >= 0) & (t < n)
    both = known_t & (p >= 0) & (p < n)
    confusion = torch.bincount(t[both] * n + p[both], minlength=n * n).view(n, n)
    hits = confusion.diag().double()
    precision = _ratio(hits, confusion.sum(0).double())
    recall = _ratio(hits, torch.bincount(t[known_t], minlength=n).double())
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {
        "accuracy": float((p == t).double().mean()) if len(t) else 0.0,
        "macro_f1": float(f1.mean()) if n else 0.0,
        "confusion": confusion.tolist(),
        "precision": [round(v, 6) for v in precision.tolist()],
        "recall": [round(v, 6) for v in recall.tolist()],
        "f1": [round(v, 6) for v in f1.tolist()],
    }


def _ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    return torch.where(den > 0, num / den.clamp(min=1e-300), torch.zeros_like(num))


def regression_metrics(abs_sum: float, sq_sum: float, y_sum: float, y_sq_sum: float,
                       count: int) -> dict[str, float]:
    """MAE, RMSE and R² from running sums over every target value.

    R² is 1 - SSE / SST with SST = sum(y²) - (sum y)² / n; it is 0 when the
    targets do not vary.
    """
    if count == 0:
        return {"mae": 0.0, "rmse": 0.0, "r2": 0.0}
    sst = y_sq_sum - y_sum * y_sum / count
    return {
        "mae": abs_sum / count,
        "rmse": math.sqrt(max(sq_sum, 0.0) / count),
        "r2": 1.0 - sq_sum / sst if sst > 1e-12 else 0.0,
    }


def thumbnails(x: torch.Tensor, mean: list[float] | None,
               std: list[float] | None) -> list[list[list[list[float]]]]:
    """Small copies of image inputs as nested lists (N, C, H, W), undoing normalisation.

    Images larger than `THUMBNAIL_SIDE` are shrunk by averaging so that an
    event stays small whatever the input size.
    """
    x = denormalised(x.detach().float().cpu(), mean, std)
    side = max(x.shape[-2:])
    if side > THUMBNAIL_SIDE:
        scale = THUMBNAIL_SIDE / side
        size = (max(1, round(x.shape[-2] * scale)), max(1, round(x.shape[-1] * scale)))
        x = F.adaptive_avg_pool2d(x, size)
    return torch.round(x * 1e4).div(1e4).tolist()


def denormalised(x: torch.Tensor, mean: list[float] | None, std: list[float] | None) -> torch.Tensor:
    """Images (C, H, W or N, C, H, W) with the data's per-channel normalisation undone (as they are without one)."""
    if mean is not None and std is not None and len(mean) == x.shape[-3] == len(std):
        x = x * torch.tensor(std, dtype=x.dtype).view(-1, 1, 1) + torch.tensor(mean, dtype=x.dtype).view(-1, 1, 1)
    return x


def is_image_shape(input_shape: tuple[int, ...] | None) -> bool:
    """Whether inputs of this per-sample shape are images (C, H, W with 1, 3 or 4 channels)."""
    return input_shape is not None and len(input_shape) == 3 and input_shape[0] in (1, 3, 4)


def scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``metrics`` that are single numbers or strings."""
    return {k: v for k, v in metrics.items()
            if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
