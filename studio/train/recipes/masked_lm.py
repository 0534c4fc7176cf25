"""The masked-language-model recipe: one encoder ("model") restores the masked tokens of a sentence (BERT).

Data: ``task == "masked_lm"`` (the ``masked_text`` source): ``x`` is a row
of token ids with some replaced by ``<mask>`` (or a random token), ``y`` the
original id at those positions and -100 everywhere else. The network maps
(N, L) ids to (N, L, V) logits.

One step: cross entropy over the chosen positions only (float32 loss, bf16
autocast when on), gradient clipping, optimizer step, per-batch schedule.

Evaluation: ``val_loss`` (cross entropy per chosen token) and
``val_masked_accuracy`` (chosen tokens restored), and, with samples,
``samples_text``: a few rows with each ``<mask>`` written as
``[predicted/original]``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from studio.data.transduction import IGNORE, MASK
from studio.train.recipes.base import RecipeContext
from studio.train.recipes.single import SingleOptimizer, evaluating

SAMPLES = 3


class MaskedLMRecipe(SingleOptimizer):
    """Masked-token prediction with one network in role "model"."""

    roles = ("model",)
    tasks = ("masked_lm",)
    loss_names = ("loss",)

    def metric_names(self, data: Any) -> list[str]:
        return ["train_loss", "val_loss", "val_masked_accuracy", "lr", "samples_per_s"]

    def setup(self, ctx: RecipeContext) -> None:
        self.setup_model(ctx)
        self.vocab = ctx.data.class_names or []

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return masked_loss(out, y)

    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Loss and accuracy over the chosen tokens of ``loader``; a few restored rows on request."""
        loss_sum, right, count, lines = 0.0, 0, 0, []
        with evaluating(self.raw_model):
            for _, x, y, out in self.outputs(loader):
                chosen = y != IGNORE
                pred = out.argmax(-1)
                loss_sum += float(masked_loss(out, y, reduction="sum"))
                right += int(((pred == y) & chosen).sum())
                count += int(chosen.sum())
                if with_samples and len(lines) < SAMPLES:
                    lines += [self.text(*row) for row in zip(x.tolist(), pred.tolist(), y.tolist())]
        if not count:
            return {}
        metrics: dict[str, Any] = {prefix + "loss": loss_sum / count, prefix + "masked_accuracy": right / count}
        if with_samples:
            metrics["samples_text"] = lines[:SAMPLES]
        return metrics

    def text(self, x: list[int], pred: list[int], y: list[int]) -> str:
        """A row with each masked token shown as [predicted/original]."""
        words = []
        for i, p, t in zip(x, pred, y):
            if i == 0:
                continue
            words.append(f"[{self.vocab[p]}/{self.vocab[t]}]" if i == MASK and t != IGNORE else self.vocab[i])
        return " ".join(words)


def masked_loss(out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross entropy over the positions whose target is not ignored."""
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=IGNORE,
                           reduction=reduction)
