"""What a run's checkpoint holds, and putting a run back to it.

A checkpoint (`studio.train.checkpoint` writes it) holds the models, the
recipe's state (optimizers, schedules), the best-epoch tracker, the metrics
history, the config and the random streams; `restore` puts all of that back,
so a resumed run with the epoch-seeded data order continues exactly as if it
had never stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.errors import TrainingError
from studio.train import checkpoint as ckpt
from studio.train.config import TrainConfig
from studio.train.run_setup import seed_everything
from studio.train.stopping import BestTracker


def load_for(path: str | Path, models: dict[str, nn.Module]) -> dict[str, Any]:
    """The checkpoint at ``path``, checked to hold the networks of ``models``.

    Raises:
        TrainingError: the file is not a readable checkpoint, or its networks differ.
    """
    state = ckpt.load_checkpoint(path)
    if set(models) ^ set(state["models"]):
        raise TrainingError(
            f"{path}: the checkpoint holds networks {sorted(state['models'])}, "
            f"this run trains {sorted(models)}")
    return state


def weights(models: dict[str, nn.Module]) -> dict[str, Any]:
    """final.pt / best.pt content: one state_dict, or one per role."""
    states = {role: m.state_dict() for role, m in models.items()}
    return states["model"] if list(states) == ["model"] else states


def state(epoch: int, models: dict[str, nn.Module], recipe: Any, tracker: BestTracker,
          history: list[dict[str, Any]], config: TrainConfig, device: torch.device,
          world_size: int) -> dict[str, Any]:
    """The checkpoint of a run at the end of ``epoch`` (not yet copied: see `checkpoint.snapshot`)."""
    rng: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return {
        "format": ckpt.FORMAT, "version": ckpt.VERSION, "epoch": epoch,
        "models": {role: m.state_dict() for role, m in models.items()},
        "recipe": recipe.state_dict(), "tracker": tracker.state_dict(),
        "history": history, "config": config.to_dict(), "rng": rng,
        "world_size": world_size,
    }


def restore(saved: dict[str, Any], models: dict[str, nn.Module], recipe: Any, tracker: BestTracker,
            device: torch.device, dist: Any, seed: int) -> tuple[list[dict[str, Any]], int]:
    """Load ``saved`` into the models, recipe, tracker and random streams; (history, first epoch to train)."""
    for role, model in models.items():
        model.load_state_dict(saved["models"][role])
    recipe.load_state_dict(saved["recipe"])
    tracker.load_state_dict(saved["tracker"])
    start_epoch = int(saved["epoch"]) + 1
    rng = saved.get("rng", {})
    if dist.is_main and "torch" in rng:
        torch.set_rng_state(rng["torch"])
        if device.type == "cuda" and rng.get("cuda"):
            torch.cuda.set_rng_state_all(rng["cuda"])
    elif not dist.is_main:  # other ranks' streams are not saved: a fresh one
        seed_everything(seed + dist.rank + 1009 * start_epoch)
    return list(saved["history"]), start_epoch
