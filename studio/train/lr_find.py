"""The learning-rate range test (Smith 2017; fastai's lr_find): `find_lr`, behind `studio lr-find` and the GUI.

The project's own run is built as `studio train` builds it (`models_for`,
`data_for`, a `Trainer` with the project's training settings), then the
recipe's real `train_step` runs `steps` times while the learning rate grows
exponentially from `start` to `end`: each step's rate is written into the
optimizer's parameter groups just before the step, so the recipe's schedule
has no say. The test stops early once the smoothed loss passes four times its
best (or is no longer finite): larger rates only diverge further.

The suggestion is the rate at the steepest descent of the smoothed loss
(its most negative slope against log lr), taken before the loss's minimum;
`min_over_ten` (the rate at the minimum, divided by ten) is reported too.

Recipes with one optimizer (supervised, language model, masked LM, skip-gram,
RBM, seq2seq) are supported; the others (GAN, RL) refuse in plain words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from studio.errors import TrainingError
from studio.graph import Project
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.trainer import Trainer

STEPS = 200
START, END = 1e-7, 10.0
SMOOTHING = 0.98   # weight of the running average of the loss (fastai's beta)
DIVERGED = 4.0     # stop once the smoothed loss passes this many times its best


@dataclass
class LrFindResult:
    """The sweep: the rate and smoothed loss of each step, and the suggestions."""

    suggested_lr: float
    min_over_ten: float
    lrs: list[float]
    losses: list[float]

    def to_json(self) -> dict:
        """`{"suggested_lr": x, "min_over_ten": y, "lrs": [...], "losses": [...]}`."""
        return {"suggested_lr": self.suggested_lr, "min_over_ten": self.min_over_ten,
                "lrs": self.lrs, "losses": self.losses}


def find_lr(project: Project, root: Path | None = None, steps: int = STEPS, start: float = START,
            end: float = END, progress: Callable[[str, float], None] | None = None) -> LrFindResult:
    """Runs the range test on the project's data and network(s); the project is not changed.

    Raises:
        TrainingError: a recipe with several optimizers, bad bounds, or too few steps ran to suggest a rate.
        StudioError: what `studio train` would refuse (a network with problems, unreadable data).
    """
    if not 0 < start < end or steps < 5:
        raise TrainingError(f"lr-find: needs 0 < start < end and at least 5 steps; got start {start}, "
                            f"end {end}, {steps} steps")
    training = dict(project.training or {})
    models = models_for(project, training, base=root)
    data = data_for(project, training, project.data or {}, root=root)
    trainer = Trainer(models, data, optimiser_settings(training))
    if not hasattr(trainer.recipe, "batches"):  # an RL recipe makes its own steps: nothing to sweep over
        trainer._setup()  # noqa: SLF001 - the run's own device, loader and recipe setup, exactly as training does
    if hasattr(trainer.recipe, "batches") or getattr(trainer.recipe, "optimizer", None) is None:
        raise TrainingError(f"lr-find: the {trainer.config.recipe} recipe has no single optimizer and data "
                            "batches to sweep; find its rates by training short runs instead")
    trainer.recipe.begin_epoch(1)
    lrs, losses = _sweep(trainer, steps, start, end, progress or (lambda step, fraction: None))
    if len(losses) < 5:
        raise TrainingError(f"lr-find: the loss diverged after {len(losses)} steps; start lower (--start)")
    return LrFindResult(suggest(lrs, losses), _min_over_ten(lrs, losses), lrs, losses)


def _sweep(trainer: Trainer, steps: int, start: float, end: float, progress) -> tuple[list[float], list[float]]:
    factor = (end / start) ** (1 / (steps - 1))
    lrs: list[float] = []
    losses: list[float] = []
    average, best = 0.0, math.inf
    batches = iter(())
    for i in range(steps):
        batch = next(batches, None)
        if batch is None:  # another pass over the training data when it is shorter than the sweep
            batches = iter(trainer.train_loader)
            batch = next(batches)
        lr = start * factor ** i
        for group in trainer.recipe.optimizer.param_groups:
            group["lr"] = lr
        loss = float(trainer.recipe.train_step(batch).float().reshape(-1)[0])
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        smooth = average / (1 - SMOOTHING ** (i + 1))  # bias correction: the average starts at 0
        if not math.isfinite(smooth) or smooth > DIVERGED * best:
            break
        best = min(best, smooth)
        lrs.append(lr)
        losses.append(smooth)
        progress(f"step {i + 1} of {steps}", (i + 1) / steps)
    return lrs, losses


def suggest(lrs: list[float], losses: list[float]) -> float:
    """The rate where the loss falls fastest against log lr, before its minimum."""
    lowest = min(range(len(losses)), key=losses.__getitem__)
    end = max(lowest, 2)
    slopes = [(losses[i + 1] - losses[i - 1]) / (math.log(lrs[i + 1]) - math.log(lrs[i - 1]))
              for i in range(1, min(end, len(lrs) - 1))]
    i = min(range(len(slopes)), key=slopes.__getitem__) + 1
    return lrs[i]


def _min_over_ten(lrs: list[float], losses: list[float]) -> float:
    return lrs[min(range(len(losses)), key=losses.__getitem__)] / 10
