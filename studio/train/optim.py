"""Optimizers and learning-rate schedules by name.

`OPTIMIZERS` maps a config's ``optimizer`` to a factory of the torch optimizer;
`SCHEDULES` maps ``schedule`` to a factory of torch's own scheduler. A
`Schedule` puts the chosen scheduler together with the linear warmup and says
when each steps: warmup, step, cosine and onecycle move every batch (so a
warmup is smooth and a short run still anneals), plateau once an epoch on the
watched validation metric. Its state is plain tensors and numbers, so it goes
into a checkpoint that loads with ``weights_only=True``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
from torch.optim import Optimizer
from torch.optim import lr_scheduler as sched

from studio.train.config import TrainConfig

Params = Iterable[torch.nn.Parameter]

OPTIMIZERS: dict[str, Callable[[Params, TrainConfig], Optimizer]] = {
    "sgd": lambda p, c: torch.optim.SGD(
        p, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov, weight_decay=c.weight_decay),
    "adam": lambda p, c: torch.optim.Adam(
        p, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay),
    "adamw": lambda p, c: torch.optim.AdamW(
        p, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay),
    "rmsprop": lambda p, c: torch.optim.RMSprop(
        p, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay),
}


def build_optimizer(params: Params, config: TrainConfig) -> Optimizer:
    """The optimizer the config names, over ``params``."""
    return OPTIMIZERS[config.optimizer](params, config)


def _has_momentum(optimizer: Optimizer) -> bool:
    defaults = optimizer.defaults
    return "betas" in defaults or defaults.get("momentum", 0) > 0


# Per-batch schedulers after the warmup; `steps` is the number of batches they span.
SCHEDULES: dict[str, Callable[[Optimizer, TrainConfig, int, int], Any]] = {
    "none": lambda o, c, steps, spe: None,
    "step": lambda o, c, steps, spe: sched.StepLR(o, step_size=c.step_size * spe, gamma=c.gamma),
    "cosine": lambda o, c, steps, spe: sched.CosineAnnealingLR(
        o, T_max=max(1, steps), eta_min=c.min_lr),
    "onecycle": lambda o, c, steps, spe: sched.OneCycleLR(
        o, max_lr=c.lr, total_steps=c.epochs * spe,
        # onecycle warms up by itself: warmup_epochs sets the length of its rise.
        pct_start=(c.warmup_epochs / c.epochs) if c.warmup_epochs else 0.3,
        cycle_momentum=_has_momentum(o)),
    "plateau": lambda o, c, steps, spe: None,
}


class Schedule:
    """The learning-rate schedule of one optimizer: warmup, then the named one."""

    def __init__(self, optimizer: Optimizer, config: TrainConfig, steps_per_epoch: int,
                 plateau_mode: str = "min"):
        self.optimizer = optimizer
        # onecycle has its own rise; the others get a linear warmup in front.
        warmup_epochs = 0 if config.schedule == "onecycle" else config.warmup_epochs
        warmup_steps = warmup_epochs * steps_per_epoch
        main_steps = (config.epochs - config.warmup_epochs) * steps_per_epoch
        main = SCHEDULES[config.schedule](optimizer, config, main_steps, steps_per_epoch)
        self.per_step = _with_warmup(optimizer, main, warmup_steps)
        self.plateau = None
        self._plateau_after = config.warmup_epochs
        if config.schedule == "plateau":
            self.plateau = sched.ReduceLROnPlateau(
                optimizer, mode=plateau_mode, factor=config.plateau_factor,
                patience=config.plateau_patience, min_lr=config.min_lr)

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group now."""
        return float(self.optimizer.param_groups[0]["lr"])

    def after_batch(self) -> None:
        """Advance the per-batch scheduler (called after each optimizer step)."""
        if self.per_step is not None and not _finished(self.per_step):
            self.per_step.step()

    def after_epoch(self, epoch: int, metric: float | None) -> None:
        """Let a plateau schedule see the epoch's watched metric (after the warmup)."""
        if self.plateau is not None and metric is not None and epoch > self._plateau_after:
            self.plateau.step(metric)

    def state_dict(self) -> dict[str, Any]:
        return {
            "per_step": self.per_step.state_dict() if self.per_step is not None else None,
            "plateau": self.plateau.state_dict() if self.plateau is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.per_step is not None and state.get("per_step") is not None:
            self.per_step.load_state_dict(state["per_step"])
        if self.plateau is not None and state.get("plateau") is not None:
            self.plateau.load_state_dict(state["plateau"])


def _with_warmup(optimizer: Optimizer, main: Any, warmup_steps: int) -> Any:
    if warmup_steps <= 1:
        return main
    # Batch k of the warmup (0-based) trains at lr * (k + 1) / warmup_steps: the
    # full rate on its last batch.
    warmup = sched.LinearLR(optimizer, start_factor=1.0 / warmup_steps, end_factor=1.0,
                            total_iters=warmup_steps - 1)
    if main is None:
        return warmup
    return sched.SequentialLR(optimizer, [warmup, main], milestones=[warmup_steps])


def _finished(scheduler: Any) -> bool:
    # OneCycleLR refuses to step past its end (a resumed run given more epochs would).
    total = getattr(scheduler, "total_steps", None)
    return total is not None and scheduler.last_epoch + 1 >= total
