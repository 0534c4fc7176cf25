"""The skeleton every recipe with one model, one optimizer and one schedule shares.

Supervised, distillation, language model, masked LM, skip-gram, seq2seq and
RBM subclass `SingleOptimizer`. A recipe that only differs in its loss sets
up with `setup_model` and gives `loss` (and `inputs` when the model takes
more than ``x``); `train_step` is then the shared one: inputs to the
device, forward under autocast, the loss in float32, `optimise`. Its
`evaluate` runs inside `evaluating` (eval mode, no gradients, the mode put
back after) over `outputs` (each batch's inputs, targets and outputs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from studio.train import devices
from studio.train.optim import Schedule, build_optimizer


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode without gradients; its earlier mode is put back on leaving."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


class SingleOptimizer:
    """Recipe parts for one `model`, one `optimizer` and one `schedule` (set by the recipe's `setup`)."""

    optimizer: Any
    schedule: Any

    def setup_model(self, ctx: Any, trained: nn.Module | None = None) -> None:
        """The common setup for one model: its trainable parameters, optimizer and schedule.

        Args:
            ctx: the recipe's context.
            trained: the part of the model whose parameters the optimizer moves (default: all of it).
        """
        self.ctx = ctx
        self.model = ctx.models["model"]
        self.raw_model = ctx.raw_models["model"]
        owner = self.raw_model if trained is None else trained
        self.params = [p for p in owner.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(self.params, ctx.config)
        self.schedule = Schedule(self.optimizer, ctx.config, ctx.steps_per_epoch, plateau_mode=ctx.watch_mode)
        self.device = ctx.device

    def begin_epoch(self, epoch: int) -> None:
        self.model.train()

    # --- the shared step ------------------------------------------------------------

    def to_device(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's inputs and targets on the device (copies that do not wait)."""
        return batch[0].to(self.device, non_blocking=True), batch[1].to(self.device, non_blocking=True)

    def inputs(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """What the model is called with (seq2seq also gives it the shifted target)."""
        return (x,)

    def forward(self, model: nn.Module, *inputs: torch.Tensor) -> Any:
        """``model(*inputs)`` under bf16 autocast when the run has it on."""
        with devices.autocast(self.device, self.ctx.mixed_precision):
            return model(*inputs)

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The training loss of float32 outputs ``out`` against targets ``y`` (each recipe's own)."""
        raise NotImplementedError

    def train_step(self, batch: Any) -> torch.Tensor:
        x, y = self.to_device(batch)
        self.optimizer.zero_grad(set_to_none=True)
        out = self.forward(self.model, *self.inputs(x, y))
        return self.optimise(self.loss(out.float(), y))

    def optimise(self, loss: torch.Tensor, reported: torch.Tensor | None = None) -> torch.Tensor:
        """Backward, gradient clipping, one optimizer and schedule step.

        Returns:
            ``reported`` (else ``loss``), detached: a loss with penalties added
            reports the loss without them.
        """
        loss.backward()
        if self.ctx.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.params, self.ctx.config.grad_clip)
        self.optimizer.step()
        self.schedule.after_batch()
        return (loss if reported is None else reported).detach()

    # --- the shared evaluation ------------------------------------------------------

    def outputs(self, loader: Any) -> Iterator[tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """``(batch, x, y, float32 outputs)`` of the plain model for each batch of ``loader``.

        Call it inside ``evaluating(self.raw_model)``.
        """
        for batch in loader:
            x, y = self.to_device(batch)
            yield batch, x, y, self.prediction(self.forward(self.raw_model, *self.inputs(x, y)))

    def prediction(self, out: Any) -> torch.Tensor:
        """The model's output as evaluation scores it, in float32."""
        return out.float()

    # --- schedule and checkpoint ----------------------------------------------------

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
