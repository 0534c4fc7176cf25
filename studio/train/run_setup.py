"""The parts of a run's setup that need no trainer: the fit checks, seeding, models and loaders.

`Trainer` (`studio.train.trainer`) calls these in order: `check_fit` when it
is made (so a run that cannot work is refused before anything trains), then,
when it runs, `seed_everything`, `place_models`, `make_loaders` and
`keep_data_on_device`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.errors import TrainingError
from studio.train import distributed as ddp
from studio.train.config import TrainConfig
from studio.train.loaders import InMemoryBatches, device_budget, eval_loader, train_loader


def check_fit(recipe: Any, models: dict[str, nn.Module], data: Any, config: TrainConfig,
              world_size: int) -> None:
    """Refuse a run whose networks, data, watched metric or batch size do not fit its recipe.

    Raises:
        TrainingError: what does not fit, and what to change.
    """
    name = config.recipe
    missing = [r for r in recipe.roles if r not in models]
    if missing:
        raise TrainingError(f"the {name} recipe needs a network in role '{missing[0]}'; "
                            f"got: {', '.join(models) or 'none'}")
    task = getattr(data, "task", None)
    if task not in recipe.tasks:
        raise TrainingError(f"training.recipe: the {name} recipe trains {' or '.join(recipe.tasks)} "
                            f"data, and this data is for {task!r}; choose the recipe for that task")
    _check_watched(recipe, data, config)
    if config.batch_size % world_size:
        raise TrainingError(f"training.batch_size: {config.batch_size} does not split over {world_size} "
                            f"processes; use a multiple of {world_size}")


def _check_watched(recipe: Any, data: Any, config: TrainConfig) -> None:
    """The metric early stopping and the plateau schedule watch must be one the run reports."""
    if not (config.early_stop_patience > 0 or config.schedule == "plateau"):
        return
    metric, names = config.early_stop_metric, recipe.metric_names(data)
    if metric not in names:
        raise TrainingError(f"training.early_stop_metric: '{metric}' is not reported "
                            f"for this task; choose one of {', '.join(names)}")
    val = getattr(data, "val", None)
    if metric.startswith("val_") and (val is None or not len(val)):
        raise TrainingError(f"training.early_stop_metric: '{metric}' needs validation data, "
                            f"and the validation split is empty; set data.val_split above 0, or turn off "
                            f"early stopping and the plateau schedule")


def seed_everything(seed: int) -> None:
    """Seed torch, `random` and numpy."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def place_models(models: dict[str, nn.Module], device: torch.device, channels_last: bool,
                 dist: Any) -> dict[str, nn.Module]:
    """Move ``models`` to ``device`` (channels-last when on); role -> the module to train through."""
    train_models = {}
    for role, model in models.items():
        model.to(device)
        if channels_last:
            model.to(memory_format=torch.channels_last)
        train_models[role] = ddp.wrap(model, device) if dist.active else model
    return train_models


@dataclass
class Loaders:
    """A run's batches: training (None when the recipe makes its own steps) and validation."""

    train: Any
    sampler: Any
    steps: int
    val: Any


def make_loaders(recipe: Any, data: Any, config: TrainConfig, dist: Any, device: torch.device) -> Loaders:
    """The training and validation loaders, and the steps of one epoch.

    Raises:
        TrainingError: the training split is empty.
    """
    pin = device.type == "cuda"
    if hasattr(recipe, "batches"):  # it makes its own steps (an RL recipe acts in an env)
        train, sampler, steps = None, None, recipe.epoch_steps(config)
    else:
        train, sampler = train_loader(data.train, config.batch_size // dist.world_size, seed=config.seed,
                                      rank=dist.rank, world_size=dist.world_size,
                                      num_workers=config.num_workers, pin_memory=pin)
        steps = len(train)
    if steps == 0:
        raise TrainingError("data: the training split is empty; check the data settings")
    val = getattr(data, "val", None)
    val_loader = eval_loader(val, config.batch_size, num_workers=config.num_workers,
                             pin_memory=pin) if val is not None and len(val) else None
    return Loaders(train, sampler, steps, val_loader)


def keep_data_on_device(loaders: Loaders, device: torch.device) -> None:
    """Move in-memory data to the device once, while the device's memory budget allows."""
    budget = device_budget(device)
    for loader in (loaders.train, loaders.val):
        if isinstance(loader, InMemoryBatches) and budget > 0 and loader.keep_on(device, budget):
            budget -= sum(t.numel() * t.element_size() for t in loader.data.tensors)
