"""The recipe contract: what a recipe is set up with (`RecipeContext`) and the methods it has (`Recipe`).

The calls the trainer makes, in order, are listed in `studio.train.recipes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader

if TYPE_CHECKING:  # a type only: the config checks recipe names against `RECIPES`
    from studio.train.config import TrainConfig


@dataclass
class RecipeContext:
    """What a recipe is set up with.

    Attributes:
        models: role -> module to train through (wrapped in
            DistributedDataParallel when several processes train together).
        raw_models: role -> the plain module (for evaluation and state_dicts).
        data: the `DataSplits`.
        config: the run's config.
        device: where tensors go.
        mixed_precision: whether to run the forward pass under bf16 autocast.
        channels_last: whether 4-D inputs should be made channels-last.
        steps_per_epoch: training batches per epoch in this process.
        watch_mode: "min" or "max" for the early-stopping metric (plateau uses it).
        world_size: processes training together.
    """

    models: dict[str, nn.Module]
    raw_models: dict[str, nn.Module]
    data: Any
    config: TrainConfig
    device: torch.device
    mixed_precision: bool
    channels_last: bool
    steps_per_epoch: int
    watch_mode: str = "min"
    world_size: int = 1


class Recipe(Protocol):
    """The methods a training recipe provides (see the module docstring)."""

    roles: tuple[str, ...]        # network roles it trains, e.g. ("generator", "discriminator")
    tasks: tuple[str, ...]        # DataSplits.task values it accepts
    loss_names: tuple[str, ...]   # what train_step returns, reported as train_<name>

    def metric_names(self, data: Any) -> list[str]: ...
    def setup(self, ctx: RecipeContext) -> None: ...
    def begin_epoch(self, epoch: int) -> None: ...
    def train_step(self, batch: Any) -> torch.Tensor: ...
    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]: ...
    def end_epoch(self, epoch: int, watched: float | None) -> None: ...
    @property
    def lr(self) -> float: ...
    def batch_size(self, batch: Any) -> int: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...
