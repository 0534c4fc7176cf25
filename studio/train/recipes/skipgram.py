"""The skip-gram recipe: word vectors learned with negative sampling (word2vec).

Data: ``task == "word_embedding"`` (the ``word_pairs`` source): each row is
``[target, negative_1 .. negative_K, input_1 .. input_W]`` word ids, W = 1 for
skip-gram (the centre word) and 2·window for CBOW (the words around the
centre), ``class_names`` the vocabulary. The network (role "model") maps a
``(B, 1 + K + W)`` row to scores ``(B, 1 + K)``: the dot product of the
averaged input vectors (``in_embed``) with the target's and each negative's
output vector (``out_embed``). Nothing about the two modes differs here.

Loss (Mikolov et al. 2013): ``-log σ(s_target) - Σ_k log σ(-s_negative_k)``,
averaged over the batch.

Evaluation: ``val_loss``, ``val_accuracy`` (the share of rows whose target
outscores every negative) and, with samples:

- ``neighbours``: ``{word: [its 5 nearest words by cosine similarity]}`` for
  the training setting ``probe_words`` (default: 8 words after the 8 most
  frequent, which are mostly function words), using the ``in_embed`` vectors;
- ``embedding_2d``: ``{"words": [...], "xy": [[x, y], ...]}``, the vectors of
  the 60 most frequent words projected on their first two principal components.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from studio.train.recipes.base import RecipeContext
from studio.train.recipes.single import SingleOptimizer, evaluating

NEIGHBOURS = 5     # nearest words listed per probe word
PROJECTED = 60     # most frequent words in the 2-D projection
DEFAULT_PROBES = 8


class SkipGramRecipe(SingleOptimizer):
    """Negative-sampling word2vec (skip-gram or CBOW) with one network in role "model"."""

    roles = ("model",)
    tasks = ("word_embedding",)
    loss_names = ("loss",)

    def metric_names(self, data: Any) -> list[str]:
        return ["train_loss", "val_loss", "val_accuracy", "lr", "samples_per_s"]

    def setup(self, ctx: RecipeContext) -> None:
        self.setup_model(ctx)
        self.words = list(ctx.data.class_names or [])

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return negative_sampling_loss(out)

    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Loss and ranking accuracy over ``loader``; neighbours and a 2-D map on request."""
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        right = torch.zeros((), device=self.device, dtype=torch.long)
        count = 0
        metrics: dict[str, Any] = {}
        with evaluating(self.raw_model) as model:
            for _, x, _, scores in self.outputs(loader):
                loss_sum += negative_sampling_loss(scores).double() * len(x)
                right += (scores[:, 0:1] > scores[:, 1:]).all(dim=1).sum()
                count += len(x)
            if count:
                metrics = {prefix + "loss": float(loss_sum) / count, prefix + "accuracy": int(right) / count}
            vectors = word_vectors(model) if with_samples else None
        if vectors is not None and self.words:
            probes = self.ctx.config.probe_words or self.words[DEFAULT_PROBES:2 * DEFAULT_PROBES]
            metrics["neighbours"] = nearest_words(vectors, self.words, probes)
            metrics["embedding_2d"] = project_2d(vectors, self.words, PROJECTED)
        return metrics


def negative_sampling_loss(scores: torch.Tensor) -> torch.Tensor:
    """``-log σ(s₀) - Σ log σ(-sₖ)`` per row (column 0 the target, the rest negatives), batch mean."""
    return -(F.logsigmoid(scores[:, 0]) + F.logsigmoid(-scores[:, 1:]).sum(dim=1)).mean()


def word_vectors(model: nn.Module) -> torch.Tensor | None:
    """The input word vectors: the Embedding named ``in_embed``, else the first Embedding."""
    embeddings = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Embedding)]
    if not embeddings:
        return None
    chosen = next((m for name, m in embeddings if name.split(".")[-1] == "in_embed"), embeddings[0][1])
    return chosen.weight.detach().float().cpu()


def nearest_words(vectors: torch.Tensor, words: list[str], probes: list[str],
                  k: int = NEIGHBOURS) -> dict[str, list[str]]:
    """``{probe: its k nearest other words by cosine similarity}``; unknown probes are left out."""
    index = {w: i for i, w in enumerate(words)}
    rows = [index[p] for p in probes if p in index]
    if not rows:
        return {}
    unit = F.normalize(vectors[:len(words)], dim=1)
    sims = unit[rows] @ unit.T
    sims[torch.arange(len(rows)), torch.tensor(rows)] = -2.0  # not itself
    top = sims.topk(min(k, len(words) - 1), dim=1).indices.tolist()
    return {words[r]: [words[j] for j in near] for r, near in zip(rows, top)}


def project_2d(vectors: torch.Tensor, words: list[str], count: int = PROJECTED) -> dict[str, Any]:
    """The first ``count`` words' vectors on their two principal components (via SVD)."""
    n = min(count, len(words), len(vectors))
    chosen = vectors[:n] - vectors[:n].mean(dim=0)
    if n < 2 or chosen.shape[1] < 2:
        return {"words": words[:n], "xy": [[0.0, 0.0] for _ in range(n)]}
    _, _, v = torch.linalg.svd(chosen, full_matrices=False)
    xy = chosen @ v[:2].T
    return {"words": words[:n], "xy": [[round(a, 5), round(b, 5)] for a, b in xy.tolist()]}
