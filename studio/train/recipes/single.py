"""What every recipe with one optimizer and one schedule shares (supervised, language model, skip-gram, RBM).

A recipe that sets `self.optimizer` and `self.schedule` in `setup` (for one
model, `setup_model` does it) takes the schedule's stepping, the learning rate,
the batch size and its checkpoint state from `SingleOptimizer`.
"""

from __future__ import annotations

from typing import Any

import torch

from studio.train.optim import Schedule, build_optimizer


class SingleOptimizer:
    """Recipe parts for one `optimizer` and one `schedule` (set by the recipe's `setup`)."""

    optimizer: Any
    schedule: Any

    def setup_model(self, ctx: Any) -> None:
        """The common setup for one model: its trainable parameters, optimizer and schedule."""
        self.ctx = ctx
        self.model = ctx.models["model"]
        self.raw_model = ctx.raw_models["model"]
        self.params = [p for p in self.raw_model.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(self.params, ctx.config)
        self.schedule = Schedule(self.optimizer, ctx.config, ctx.steps_per_epoch, plateau_mode=ctx.watch_mode)
        self.device = ctx.device

    def begin_epoch(self, epoch: int) -> None:
        self.model.train()

    def optimise(self, loss: torch.Tensor) -> torch.Tensor:
        """Backward, gradient clipping, one optimizer and schedule step; the loss, detached."""
        loss.backward()
        if self.ctx.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.params, self.ctx.config.grad_clip)
        self.optimizer.step()
        self.schedule.after_batch()
        return loss.detach()

    def end_epoch(self, epoch: int, watched: float | None) -> None:
        self.schedule.after_epoch(epoch, watched)

    @property
    def lr(self) -> float:
        return self.schedule.lr

    def batch_size(self, batch: Any) -> int:
        return len(batch[0])

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
