"""The sequence-to-sequence recipe: one encoder-decoder network ("model") rewrites a source into a target.

Data: ``task == "transduction"`` (the ``transduction`` source): ``x`` is the
source (S,) ids, ``y`` the target (T,) ids ending in `EOS` and padded with
`PAD`. The network has two Inputs, the source and the decoder's input, and
returns (N, T, V) logits; the decoder's input is the target shifted right
behind `BOS` (teacher forcing), made here.

One step: cross entropy over the target positions that are not padding
(float32 loss, bf16 autocast when on), gradient clipping, optimizer step,
per-batch schedule.

Evaluation: ``val_loss`` (teacher-forced cross entropy per token),
``val_token_accuracy`` (teacher-forced next token right),
``val_exact_match`` (greedy decoding gives the whole target, EOS included),
``val_exact_match_beam`` (the same with beam search of ``beam_width`` and
``length_penalty``; equal to greedy at width 1) and, with samples,
``attention``: for validation example ``attention_example`` (the first when
there are fewer), its ``source``
and greedily decoded ``target`` tokens and ``weights`` (one row per target
token, one column per source token) of the network's first attention
(averaged over heads for multi-head attention; the cross-attention of the
first decoder layer in a Transformer), plus ``samples_text``: a few
"source → prediction (target)" lines.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from studio.data.transduction import BOS, PAD
from studio.train.recipes.base import RecipeContext
from studio.train.recipes.attention_maps import capture
from studio.train.recipes.decoding import beam_search, exact_matches, greedy, trim
from studio.train.recipes.single import SingleOptimizer, evaluating

SAMPLES = 4  # sample lines after each epoch


def shift_right(target: torch.Tensor) -> torch.Tensor:
    """The decoder's input for ``target``: BOS, then the target without its last token."""
    return torch.cat([torch.full_like(target[:, :1], BOS), target[:, :-1]], dim=1)


class Seq2SeqRecipe(SingleOptimizer):
    """Teacher-forced training and decoded evaluation of one encoder-decoder network in role "model"."""

    roles = ("model",)
    tasks = ("transduction",)
    loss_names = ("loss",)

    def metric_names(self, data: Any) -> list[str]:
        return ["train_loss", "val_loss", "val_token_accuracy", "val_exact_match", "val_exact_match_beam",
                "lr", "samples_per_s"]

    def setup(self, ctx: RecipeContext) -> None:
        self.setup_model(ctx)
        self.vocab = ctx.data.class_names or []

    def inputs(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return x, shift_right(y)  # teacher forcing: the decoder sees the target one step behind

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return token_loss(out, y)

    # --- evaluation -----------------------------------------------------------------

    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Teacher-forced loss and accuracy, exact match by greedy and beam decoding; samples on request."""
        model, config = self.raw_model, self.ctx.config
        with evaluating(model):
            loss_sum, right, tokens, rows, greedy_ok, beam_ok = 0.0, 0, 0, 0, 0, 0
            lines: list[str] = []
            example = first = None
            for _, src, tgt, out in self.outputs(loader):
                real = tgt != PAD
                loss_sum += float(token_loss(out, tgt, reduction="sum"))
                right += int(((out.argmax(-1) == tgt) & real).sum())
                tokens += int(real.sum())
                length = tgt.shape[1]
                decoded = greedy(model, src, length)
                greedy_ok += exact_matches(decoded, tgt)
                if config.beam_width > 1 or config.length_penalty:
                    beam_ok += exact_matches(beam_search(model, src, length, config.beam_width,
                                                         config.length_penalty), tgt)
                rows += len(src)
                index = config.attention_example - (rows - len(src))
                if (example is None and 0 <= index < len(src)) or first is None:
                    first = first or (src[:1], length)
                    example = (src[index:index + 1], length) if 0 <= index < len(src) else example
                if with_samples and len(lines) < SAMPLES:
                    lines += [f"{self.text(s)} → {self.text(p)} ({self.text(t)})" for s, p, t in
                              zip(src.tolist(), decoded.tolist(), tgt.tolist())][:SAMPLES - len(lines)]
            metrics: dict[str, Any] = {}
            if tokens:
                metrics = {prefix + "loss": loss_sum / tokens, prefix + "token_accuracy": right / tokens,
                           prefix + "exact_match": greedy_ok / rows,
                           prefix + "exact_match_beam": (beam_ok if config.beam_width > 1
                                                         or config.length_penalty else greedy_ok) / rows}
            if with_samples and rows:
                metrics["samples_text"] = lines
                heat = self.attention(*(example or first))
                if heat is not None:
                    metrics["attention"] = heat
        return metrics

    def attention(self, src: torch.Tensor, length: int) -> dict[str, Any] | None:
        """Source tokens, decoded target tokens and the attention weights between them for one example.

        Args:
            src: the example's source, (1, S) ids.
            length: the target length T.
        """
        decoded = greedy(self.raw_model, src, length)
        with capture(self.raw_model) as found:
            self.raw_model(src, shift_right(decoded))
        cross = [w for w in found.values() if w.shape[-1] == src.shape[1] and w.shape[-2] == length]
        if not cross:
            return None
        weights = cross[0][0]
        weights = weights.mean(0) if weights.dim() == 3 else weights  # heads averaged
        source = [i for i in src[0].tolist() if i != PAD]
        target = trim(decoded[0].tolist())
        return {"source": [self.vocab[i] for i in source], "target": [self.vocab[i] for i in target],
                "weights": weights[:len(target), :len(source)].tolist()}

    def text(self, ids: list[int]) -> str:
        return "".join(self.vocab[i] for i in trim(ids) if i < len(self.vocab) and len(self.vocab[i]) == 1)


def token_loss(out: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross entropy over the positions of ``target`` that are not padding."""
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1), ignore_index=PAD,
                           reduction=reduction)
