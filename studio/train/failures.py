"""Turning whatever stopped a run into one `RunFailed` that says what, where and what to do.

    non_finite      a NaN or infinite loss (`NonFiniteLoss`, raised by the trainer's guard)
    out_of_memory   torch.cuda.OutOfMemoryError: suggests half the batch size
    studio          a `StudioError` (bad data, say): its own message
    error           anything else: the exception, plus the traceback in ``detail``

Every message names the epoch and batch and the last good checkpoint.
"""

from __future__ import annotations

import math
import traceback
from dataclasses import dataclass

import torch

from studio.errors import StudioError
from studio.train.events import RunFailed


class NonFiniteLoss(Exception):
    """A training loss was NaN or infinite.

    Attributes:
        epoch, batch: where (1-based); the first such batch.
        value: the loss (NaN when it was seen in another process).
        elsewhere: whether another process saw it (distributed runs).
    """

    def __init__(self, epoch: int, batch: int, value: float, elsewhere: bool = False):
        super().__init__(f"non-finite loss at epoch {epoch}, batch {batch}")
        self.epoch, self.batch, self.value, self.elsewhere = epoch, batch, value, elsewhere


@dataclass(frozen=True)
class Where:
    """The state of the run when it failed."""

    epoch: int
    batch: int
    last_checkpoint: str | None
    lr: float
    batch_size: int
    device: str

    @property
    def place(self) -> str:
        if self.batch:
            return f"epoch {self.epoch}, batch {self.batch}"
        return f"epoch {self.epoch}" if self.epoch else "before training"

    @property
    def kept(self) -> str:
        if self.last_checkpoint:
            return f"Last good checkpoint: {self.last_checkpoint}."
        return "No checkpoint was written yet."


def explain(exc: BaseException, where: Where) -> RunFailed:
    """The `RunFailed` event for ``exc`` (call inside the ``except`` block)."""
    if isinstance(exc, NonFiniteLoss):
        return _non_finite(exc, where)
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return _out_of_memory(exc, where)
    if isinstance(exc, StudioError):
        return _failed(f"{exc} ({where.place}). {where.kept}", where, "studio")
    return _failed(f"{type(exc).__name__} at {where.place}: {exc}. {where.kept}", where,
                   "error", detail=traceback.format_exc())


def _non_finite(exc: NonFiniteLoss, where: Where) -> RunFailed:
    value = "NaN" if math.isnan(exc.value) else str(exc.value)
    source = "in another process" if exc.elsewhere else f"({value})"
    message = (f"The loss became non-finite {source} at epoch {exc.epoch}, batch {exc.batch}; "
               f"training stopped. {where.kept} Try a lower learning rate (now {where.lr:g}), "
               f"gradient clipping (grad_clip=1.0), or check the data for NaN values.")
    return RunFailed(message, exc.epoch, exc.batch, where.last_checkpoint, kind="non_finite")


def _out_of_memory(exc: BaseException, where: Where) -> RunFailed:
    half = max(1, where.batch_size // 2)
    exc.__traceback__ = None  # drop the frames that hold the batch's tensors...
    if torch.cuda.is_available():
        torch.cuda.empty_cache()  # ...and give their memory back
    message = (f"Out of memory on {where.device} at {where.place} with batch size "
               f"{where.batch_size}. {where.kept} Try a smaller batch, e.g. batch_size={half} "
               f"(--set batch_size={half}).")
    return _failed(message, where, "out_of_memory")


def _failed(message: str, where: Where, kind: str, detail: str = "") -> RunFailed:
    return RunFailed(message, where.epoch, where.batch, where.last_checkpoint, detail, kind)
