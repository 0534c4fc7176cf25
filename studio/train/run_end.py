"""How a run ends: its final weights written, its test split evaluated, the `RunFinished` that says so.

`Trainer` (`studio.train.trainer`) calls these once its loop is over and the
last epoch's checkpoint is on disk; a stopped run is not tested.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from studio.train import qat, run_checkpoint
from studio.train.events import RunFinished
from studio.train.loaders import eval_loader
from studio.train.run_files import RunFiles
from studio.train.stopping import BestTracker


def save_final(files: RunFiles, models: dict[str, nn.Module], qat_mode: str) -> str | None:
    """final.pt (and, with quantization-aware training, its int8 copy) when the run writes files; its path."""
    final = files.save_final(run_checkpoint.weights(models)) if files.writes else None
    if final is not None and qat_mode != "off":
        qat.save_converted(models, files.out_dir)
    return final


def evaluate_test_split(recipe: Any, data: Any, config: Any, device: torch.device) -> dict[str, Any] | None:
    """The recipe's numeric figures on the data's test split (pictures left out); None when it is empty."""
    test_data = getattr(data, "test", None)
    if test_data is None or not len(test_data):
        return None
    loader = eval_loader(test_data, config.batch_size, num_workers=config.num_workers,
                         pin_memory=device.type == "cuda")
    return {k: v for k, v in recipe.evaluate(loader, "test_").items() if isinstance(v, (int, float))}


def finished(reason: str, tracker: BestTracker, history: list[dict[str, Any]], final: str | None,
             test: dict[str, Any] | None) -> RunFinished:
    """The run's last event: why it ended, the best epoch and its figures, the epochs run, its files."""
    return RunFinished(reason=reason, best=dict(tracker.best_metrics), best_epoch=tracker.best_epoch,
                       epochs_run=history[-1]["epoch"] if history else 0, final_weights=final, test=test)
