"""Loss functions by name, and how a batch's targets are shaped to meet them.

`LOSSES` maps a config's ``loss`` to a factory of the torch loss module. Data
gives class targets as int64 indices and regression targets as float32; a
loss that wants something else (one-hot rows for mse on a classifier, a float
column for bce on a one-unit output) gets it from `adapt_target`, so one
dataset trains under any loss that makes sense for it.

Losses expecting probabilities or log-probabilities (bce, kl_div, nll) expect
the network to end in Sigmoid, LogSoftmax and so on; nothing is added here.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from studio.train.config import TrainConfig

LOSSES: dict[str, Callable[[TrainConfig], nn.Module]] = {
    "cross_entropy": lambda c: nn.CrossEntropyLoss(label_smoothing=c.label_smoothing),
    "bce": lambda c: nn.BCELoss(),
    "bce_logits": lambda c: nn.BCEWithLogitsLoss(),
    "mse": lambda c: nn.MSELoss(),
    "l1": lambda c: nn.L1Loss(),
    # batchmean is the mathematically right KL; "mean" divides by the class count too.
    "kl_div": lambda c: nn.KLDivLoss(reduction="batchmean"),
    "nll": lambda c: nn.NLLLoss(),
}

# Losses that take class indices as they come.
_INDEX_TARGETS = {"cross_entropy", "nll"}
# One-output binary classifiers: the threshold between the classes.
_LOGIT_LOSSES = {"bce_logits", "cross_entropy"}


def resolve_loss_name(name: str, task: str) -> str:
    """The loss a config means: "auto" is cross_entropy for classifiers, else mse."""
    if name != "auto":
        return name
    return "cross_entropy" if task == "classification" else "mse"


def build_loss(name: str, config: TrainConfig) -> nn.Module:
    """The torch loss module for a resolved loss name."""
    return LOSSES[name](config)


def adapt_target(loss_name: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Shape and type targets ``y`` the way loss ``loss_name`` wants next to ``out``.

    Class indices become one-hot float rows (or a float column for a one-unit
    output) for losses that compare values; float targets take the output's
    shape when they hold the same number of values (``(N,)`` against ``(N, 1)``).
    """
    if loss_name in _INDEX_TARGETS:
        return y
    if not y.is_floating_point():
        if out.dim() >= 2 and out.shape[1] > 1:
            return F.one_hot(y.long(), out.shape[1]).to(torch.float32)
        return y.to(torch.float32).reshape(out.shape)
    if y.shape != out.shape and y.numel() == out.numel():
        return y.reshape(out.shape)
    return y


def predict_classes(loss_name: str, out: torch.Tensor) -> torch.Tensor:
    """Predicted class indices from a classifier's output for this loss."""
    if out.dim() >= 2 and out.shape[1] > 1:
        return out.argmax(dim=1)
    threshold = 0.0 if loss_name in _LOGIT_LOSSES else 0.5
    return (out.reshape(-1) > threshold).long()
