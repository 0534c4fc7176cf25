"""Training recipes: what one step and one evaluation of a task are.

The `Trainer` owns everything every task shares: the device, the epoch loop,
batching, pause and stop, the NaN guard, throttled events, checkpoints,
metrics.jsonl and early stopping. A recipe owns what differs between tasks:
which networks it needs (``roles``), its optimizers and schedules, one
training step and the evaluation. `RECIPES` maps the config's ``recipe`` name
to a recipe class, named by module and class so that nothing is imported
until a run asks for it; adding a task (GAN, DQN, seq2seq, language model, RBM,
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

from functools import partial
from importlib import import_module
from typing import Callable

from studio.train.recipes.base import Recipe, RecipeContext

# name -> (module in this package, class): the table the config's "recipe" key is checked against.
_TABLE = {
    "supervised": ("supervised", "SupervisedRecipe"),
    "distillation": ("distillation", "DistillationRecipe"),
    "gan": ("gan", "GanRecipe"),
    "rbm": ("rbm", "RbmRecipe"),
    "language_model": ("language_model", "LanguageModelRecipe"),
    "skipgram": ("skipgram", "SkipGramRecipe"),
    "seq2seq": ("seq2seq", "Seq2SeqRecipe"),
    "masked_lm": ("masked_lm", "MaskedLMRecipe"),
    "attention_classifier": ("attention_maps", "AttentionClassifierRecipe"),
    "dqn": ("dqn", "DqnRecipe"),
    "actor_critic": ("actor_critic", "ActorCriticRecipe"),
}


def _load(module: str, name: str) -> Recipe:
    return getattr(import_module(f"{__name__}.{module}"), name)()


# name -> factory of a fresh recipe.
RECIPES: dict[str, Callable[[], Recipe]] = {name: partial(_load, *where) for name, where in _TABLE.items()}


def make_recipe(name: str) -> Recipe:
    """A fresh recipe object for ``name`` (a key of `RECIPES`)."""
    return RECIPES[name]()


__all__ = ["RECIPES", "Recipe", "RecipeContext", "make_recipe"]
