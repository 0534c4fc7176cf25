"""Training recipes: what one step and one evaluation of a task are.

The `Trainer` owns everything every task shares: the device, the epoch loop,
batching, pause and stop, the NaN guard, throttled events, checkpoints,
metrics.jsonl and early stopping. A recipe owns what differs between tasks:
which networks it needs (``roles``), its optimizers and schedules, one
training step and the evaluation. `RECIPES` maps the config's ``recipe`` name
to a recipe class; adding a task (GAN, DQN, seq2seq, language model, RBM,
skip-gram) is adding a class with the `Recipe` methods and one entry here.

The contract, in the order the trainer calls it:

    recipe = RECIPES[name]()
    recipe.roles, recipe.tasks, recipe.loss_names   # checked before anything runs
    recipe.metric_names(data) -> list[str]          # epoch metrics it reports
    recipe.setup(ctx: RecipeContext)                # optimizers, losses, schedules
    recipe.load_state_dict(state)                   # only when resuming
    per epoch:
        recipe.begin_epoch(epoch)                   # train mode etc.
        recipe.train_step(batch) -> Tensor          # per batch; see below
        recipe.evaluate(loader, prefix, with_samples) -> dict
        recipe.end_epoch(epoch, watched)            # epoch schedules
    recipe.lr, recipe.batch_size(batch), recipe.state_dict()

An RL recipe (dqn, actor_critic) also has ``environment = True`` (it loads no
dataset), ``epoch_steps(config) -> int`` and ``batches(epoch)``: the trainer
iterates ``batches(epoch)`` (one item per step) instead of batching data.train.

`train_step` does the whole update (forward, backward, optimizer step,
per-batch schedule) and returns the losses as a detached tensor on the device,
0-d for one loss or 1-d in ``loss_names`` order, without synchronising: the
trainer keeps them on the device and reads them only when an event is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader

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


def _supervised() -> Recipe:
    from studio.train.recipes.supervised import SupervisedRecipe

    return SupervisedRecipe()


def _distillation() -> Recipe:
    from studio.train.recipes.distillation import DistillationRecipe

    return DistillationRecipe()


def _language_model() -> Recipe:
    from studio.train.recipes.language_model import LanguageModelRecipe

    return LanguageModelRecipe()


def _skipgram() -> Recipe:
    from studio.train.recipes.skipgram import SkipGramRecipe

    return SkipGramRecipe()


def _gan() -> Recipe:
    from studio.train.recipes.gan import GanRecipe

    return GanRecipe()


def _rbm() -> Recipe:
    from studio.train.recipes.rbm import RbmRecipe

    return RbmRecipe()


def _dqn() -> Recipe:
    from studio.train.recipes.dqn import DqnRecipe

    return DqnRecipe()


def _actor_critic() -> Recipe:
    from studio.train.recipes.actor_critic import ActorCriticRecipe

    return ActorCriticRecipe()


def _seq2seq() -> Recipe:
    from studio.train.recipes.seq2seq import Seq2SeqRecipe

    return Seq2SeqRecipe()


def _masked_lm() -> Recipe:
    from studio.train.recipes.masked_lm import MaskedLMRecipe

    return MaskedLMRecipe()


def _attention_classifier() -> Recipe:
    from studio.train.recipes.attention_maps import AttentionClassifierRecipe

    return AttentionClassifierRecipe()


# name -> factory of a fresh recipe; the config's "recipe" key is checked against it.
RECIPES: dict[str, Any] = {
    "supervised": _supervised,
    "distillation": _distillation,
    "gan": _gan,
    "rbm": _rbm,
    "language_model": _language_model,
    "skipgram": _skipgram,
    "seq2seq": _seq2seq,
    "masked_lm": _masked_lm,
    "attention_classifier": _attention_classifier,
    "dqn": _dqn,
    "actor_critic": _actor_critic,
}


def make_recipe(name: str) -> Recipe:
    """A fresh recipe object for ``name`` (a key of `RECIPES`)."""
    return RECIPES[name]()
