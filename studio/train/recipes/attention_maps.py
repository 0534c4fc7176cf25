"""Reading attention weights out of a compiled network, and the classifier recipe that reports them.

`capture(model)` records, during one forward pass, the weights of every
attention in ``model``: an `AdditiveAttention` node gives its second output
(N, T, S); a `torch.nn.MultiheadAttention` (inside the MultiheadAttention
node and the Transformer layers, which call it without weights) is called
once more on the same inputs with ``need_weights=True`` for its per-head
weights (N, heads, T, S). Entries are keyed by the submodule's qualified
name, in call order.

`AttentionClassifierRecipe` ("attention_classifier") is the supervised
classification recipe plus ``attention_maps`` in the epoch metrics (with
samples): for the first validation example, ``{"tokens": [...], "layer":
name, "heads": [[[...]]]}``, one L×L map per head of the first attention.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from studio.catalog.modules import AdditiveAttention
from studio.train.recipes.single import evaluating
from studio.train.recipes.supervised import SupervisedRecipe


@contextmanager
def capture(model: nn.Module) -> Iterator[dict[str, torch.Tensor]]:
    """A dict filled with each attention's weights (detached, on the CPU) by the forward passes inside."""
    found: dict[str, torch.Tensor] = {}
    handles = []

    def additive(name):
        def hook(module, args, out):
            found[name] = out[1].detach().float().cpu()
        return hook

    def multihead(name):
        def hook(module, args, kwargs, out):
            q, k, v = (list(args) + [kwargs.get(a) for a in ("query", "key", "value")][len(args):])[:3]
            mask = kwargs.get("attn_mask")
            with torch.no_grad():
                _, w = nn.MultiheadAttention.forward(module, q, k, v, attn_mask=mask,
                                                     key_padding_mask=kwargs.get("key_padding_mask"),
                                                     need_weights=True, average_attn_weights=False)
            found[name] = w.detach().float().cpu()
        return hook

    for name, module in model.named_modules():
        if isinstance(module, AdditiveAttention):
            handles.append(module.register_forward_hook(additive(name)))
        elif isinstance(module, nn.MultiheadAttention):
            handles.append(module.register_forward_hook(multihead(name), with_kwargs=True))
    try:
        yield found
    finally:
        for h in handles:
            h.remove()


class AttentionClassifierRecipe(SupervisedRecipe):
    """Supervised classification that also reports one example's attention maps, per head."""

    tasks = ("classification",)

    @torch.no_grad()
    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        metrics = super().evaluate(loader, prefix, with_samples)
        if with_samples:
            maps = self.attention_maps(loader)
            if maps:
                metrics["attention_maps"] = maps
        return metrics

    def attention_maps(self, loader: DataLoader) -> dict[str, Any] | None:
        """The first attention's per-head maps for the first example of ``loader``."""
        batch = next(iter(loader), None)
        if batch is None:
            return None
        x = batch[0][:1].to(self.device)
        with evaluating(self.raw_model) as model, capture(model) as found:
            model(x)
        if not found:
            return None
        name, weights = next(iter(found.items()))
        heads = weights[0] if weights.dim() == 4 else weights[:1]
        tokens = batch[0][0].tolist() if x.dtype == torch.long else list(range(heads.shape[-1]))
        return {"tokens": tokens, "layer": name, "heads": heads.tolist()}
