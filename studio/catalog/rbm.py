"""The energy-based family: a Bernoulli restricted Boltzmann machine, its sampling and its CD-k loss.

Like `studio.catalog.modules`, it depends on torch alone and scripts:
`studio code` copies its source into the generated file (after the modules of
`modules.py`), and the ``rbm`` recipe trains it through `RBM.cd_loss`.
"""

from __future__ import annotations

import torch
from torch import nn


class RBM(nn.Module):
    """A Bernoulli restricted Boltzmann machine; forward gives the hidden units' probabilities.

    Energy E(v, h) = -v·b_v - h·b_h - hᵀWv over binary visible units v and hidden
    units h. Training (the ``rbm`` recipe) is contrastive divergence: `cd_loss`
    runs `k` steps of Gibbs sampling from the data and returns the free-energy
    gap whose gradient is the CD-k update.
    """

    def __init__(self, visible: int, hidden: int = 64, k: int = 1):
        super().__init__()
        self.visible = visible
        self.hidden = hidden
        self.k = k
        self.weight = nn.Parameter(torch.randn(hidden, visible) * 0.01)
        self.v_bias = nn.Parameter(torch.zeros(visible))
        self.h_bias = nn.Parameter(torch.zeros(hidden))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.hidden_probs(v)

    @torch.jit.export
    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        """p(h = 1 | v)."""
        return torch.sigmoid(nn.functional.linear(v, self.weight, self.h_bias))

    @torch.jit.export
    def visible_probs(self, h: torch.Tensor) -> torch.Tensor:
        """p(v = 1 | h)."""
        return torch.sigmoid(nn.functional.linear(h, self.weight.t(), self.v_bias))

    @torch.jit.export
    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -v·b_v - Σ softplus(Wv + b_h), one value per sample."""
        wx = nn.functional.linear(v, self.weight, self.h_bias)
        return -(v * self.v_bias).sum(-1) - nn.functional.softplus(wx).sum(-1)

    @torch.jit.export
    def gibbs(self, v: torch.Tensor, steps: int) -> torch.Tensor:
        """Binary visible units after `steps` rounds of v → h → v sampling."""
        for _ in range(steps):
            h = torch.bernoulli(self.hidden_probs(v))
            v = torch.bernoulli(self.visible_probs(h))
        return v

    @torch.jit.export
    def cd_loss(self, v: torch.Tensor) -> torch.Tensor:
        """Mean free energy of the data less that of the CD-k chain's end (gradient: CD-k)."""
        with torch.no_grad():
            negative = self.gibbs(v, self.k)
        return self.free_energy(v).mean() - self.free_energy(negative).mean()

    @torch.jit.export
    def reconstruct(self, v: torch.Tensor) -> torch.Tensor:
        """p(v' = 1 | h) with h = p(h = 1 | v): one mean-field pass down and up."""
        return self.visible_probs(self.hidden_probs(v))
