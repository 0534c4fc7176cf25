"""`WeightAverage`: an exponential moving average of a network's weights, kept in the network itself.

The gan recipe's ``g_ema`` setting (Yazici et al. 2019; as in ProGAN and
StyleGAN): the optimizer trains a private copy, and after each of its steps
the network the project knows moves towards it, so samples, evaluation,
checkpoints and exports all use the average.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class WeightAverage:
    """An exponential moving average of a network's weights, kept in the network itself.

    ``model`` (the network the project and the trainer know) holds the average;
    ``trained`` is a private copy that the optimizer updates. `update` moves
    the average's parameters towards the copy's and copies its buffers.
    """

    def __init__(self, model: nn.Module, decay: float):
        self.model, self.decay, self.updates = model, decay, 0
        self.trained = copy.deepcopy(model)
        self._average = [p.data for p in model.parameters()]
        self._source = [p.data for p in self.trained.parameters()]
        # Buffers (batch-norm statistics and counts) follow the trained copy as they are.
        self._average_buffers = list(model.buffers())
        self._source_buffers = list(self.trained.buffers())

    @torch.no_grad()
    def update(self) -> None:
        """One step of the average after an optimizer step of ``trained``."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self._average, self._source, 1.0 - decay)
        if self._average_buffers:
            torch._foreach_copy_(self._average_buffers, self._source_buffers)

    def state_dict(self) -> dict[str, Any]:
        return {"trained": self.trained.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.trained.load_state_dict(state["trained"])
        self.updates = int(state["updates"])
