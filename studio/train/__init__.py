"""Training: the Qt-free loop, its config, events, recipes, checkpoints and launchers.

    from studio.train import TrainConfig, Trainer
    config = TrainConfig.from_dict({"epochs": 5, "lr": 0.01})
    result = Trainer({"model": net}, splits, config, callback=print, out_dir="runs/a").run()

Modules, one job each:

- `config`: `TrainConfig`, the checked "training" section.
- `events`: the event dataclasses a run sends.
- `trainer`: `Trainer` (the loop, pause/stop, events) and `resume`; its parts
  `trainer_state`, `run_setup`, `loss_readback` (the NaN guard), `run_files`,
  `run_checkpoint`.
- `recipes`: `RECIPES`, the table of tasks; `recipes.single` the one-model
  skeleton, `recipes.rl` the environment recipes' base.
- `process`, `child`, `launcher`, `rehearsal`: the GUI's training child process,
  started by a `Launcher` with a warm-up strategy.
- `losses`, `optim`: losses, optimizers and schedules by name.
- `metrics`, `stopping`: epoch metrics; best epoch and early stopping.
- `failures`: what stopped a run, as one `RunFailed` message.
- `loaders`: DataLoaders with the epoch-seeded order.
- `checkpoint`: the files of a run, written atomically; `load_weights`.
- `devices`: device choice, bf16 autocast, channels-last.
- `distributed`, `worker`: data-parallel training under torchrun.
- `run`: the command line's arguments, overrides and progress bar.
"""

from studio.train.checkpoint import load_checkpoint, load_weights
from studio.train.config import TrainConfig
from studio.train.distributed import launch, launch_spec
from studio.train.events import (
    BatchEnded, CheckpointSaved, EpochEnded, Event, RunFailed, RunFinished, RunStarted,
    event_from_dict, event_to_dict,
)
from studio.train.recipes import RECIPES
from studio.train.run import add_train_arguments, apply_overrides, run_training
from studio.train.trainer import Trainer, resume

__all__ = [
    "BatchEnded", "CheckpointSaved", "EpochEnded", "Event", "RECIPES", "RunFailed",
    "RunFinished", "RunStarted", "TrainConfig", "Trainer", "add_train_arguments",
    "apply_overrides", "event_from_dict", "event_to_dict", "launch", "launch_spec",
    "load_checkpoint", "load_weights", "resume", "run_training",
]
