"""TensorBoard event files in a run's folder, beside metrics.jsonl (``training.tensorboard``).

`open_log(config, out_dir)` gives a `TensorBoardLog` when the setting asks
for one (``"auto"``: when the optional ``tensorboard`` package is installed,
``pip install network-studio[tensorboard]``), else None; ``true`` without the
package is a plain `TrainingError`. The trainer hands it every event it sends
(`TensorBoardLog.write`), in the process that trains:

- `BatchEnded`: ``batch/loss`` and ``batch/lr`` at the run's step;
- `EpochEnded`: every scalar metric (``train_loss``, ``val_accuracy``, ...) at the epoch;
- `LayersMeasured`: ``weights/``, ``grads/`` and ``activations/`` histograms
  per layer (written raw, from the buckets the probe made) and
  ``grad_norm/total`` and ``grad_norm/LAYER`` at the step;
- `RunFinished` / `RunFailed`: the files are flushed and closed.

``tensorboard --logdir runs/NAME`` then shows the run.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

from studio.errors import TrainingError
from studio.train.events import BatchEnded, EpochEnded, LayersMeasured, RunFailed, RunFinished
from studio.train.layer_stats import BINS


def available() -> bool:
    """Whether the tensorboard package is installed (nothing is imported)."""
    try:
        return importlib.util.find_spec("tensorboard") is not None
    except ValueError:  # sys.modules holds None for it: importing it is blocked
        return False


def open_log(setting: bool | str, out_dir: Path | None) -> TensorBoardLog | None:
    """The log ``setting`` asks for in ``out_dir``, or None (off, no folder, or "auto" without the package)."""
    if out_dir is None or setting is False or (setting == "auto" and not available()):
        return None
    if not available():
        raise TrainingError("training.tensorboard: true needs the tensorboard package "
                            "(pip install tensorboard); install it or set tensorboard to \"auto\"")
    return TensorBoardLog(out_dir)


class TensorBoardLog:
    """Writes a run's events into TensorBoard event files in ``out_dir``."""

    def __init__(self, out_dir: Path):
        from torch.utils.tensorboard import SummaryWriter  # late: the package is optional

        self.writer = SummaryWriter(log_dir=str(out_dir))
        self.steps_per_epoch = 0

    def write(self, event: Any) -> None:
        """Record ``event`` (any other kind is ignored)."""
        if isinstance(event, BatchEnded):
            self.steps_per_epoch = event.batches
            step = (event.epoch - 1) * event.batches + event.batch
            self.writer.add_scalar("batch/loss", event.loss, step)
            self.writer.add_scalar("batch/lr", event.lr, step)
        elif isinstance(event, EpochEnded):
            for name, value in event.metrics.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "epoch":
                    self.writer.add_scalar(name, value, event.epoch)
        elif isinstance(event, LayersMeasured):
            self._layers(event)
        elif isinstance(event, (RunFinished, RunFailed)):
            self.close()

    def _layers(self, event: LayersMeasured) -> None:
        if event.grad_norm is not None:
            self.writer.add_scalar("grad_norm/total", event.grad_norm, event.step)
        for layer in event.layers:
            for kind in ("weights", "grads", "activations"):
                if kind in layer and layer[kind]["num"]:
                    self._histogram(f"{kind}/{layer['name']}", layer[kind], event.step)
            if layer.get("grad_norm") is not None:
                self.writer.add_scalar(f"grad_norm/{layer['name']}", layer["grad_norm"], event.step)
        for name, value in event.memory.items():
            self.writer.add_scalar(f"memory/{name}_mib", value / 2**20, event.step)

    def _histogram(self, tag: str, h: dict[str, Any], step: int) -> None:
        lo, hi = h["min"], h["max"]
        width = (hi - lo) / BINS or 1e-12
        limits = [lo + width * (i + 1) for i in range(BINS)]
        if not all(math.isfinite(v) for v in (h["sum"], h["sum_squares"])):
            return
        self.writer.add_histogram_raw(tag, min=lo, max=hi, num=h["num"], sum=h["sum"],
                                      sum_squares=h["sum_squares"], bucket_limits=limits,
                                      bucket_counts=h["counts"], global_step=step)

    def close(self) -> None:
        """Flush and close the event files (again is harmless)."""
        self.writer.close()
