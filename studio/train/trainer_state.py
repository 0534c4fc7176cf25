"""What a `Trainer` keeps per run and per epoch, and the clock that leaves pauses out.

`RunParts` is what one run's setup makes (loaders, steps, the best tracker,
the probe); `EpochTally` the running figures of the epoch being trained;
`PauseClock` measures training time: every duration the trainer reports
(samples per second, the time left, an epoch's ``time_s``) is
`PauseClock.since` a `Mark`, so a pause never counts as training; `DataWait`
counts the seconds the loop waited for its batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from studio.train import devices
from studio.train.events import RunStarted
from studio.train.stopping import BestTracker


@dataclass(frozen=True)
class Mark:
    """A moment: the wall clock (``time.perf_counter``) and the seconds paused until then."""

    at: float
    paused_s: float


class PauseClock:
    """Seconds of training: wall-clock time less the time spent paused."""

    def __init__(self):
        self.paused_s = 0.0

    def mark(self) -> Mark:
        """Now, to measure from."""
        return Mark(time.perf_counter(), self.paused_s)

    def since(self, mark: Mark, now: float) -> float:
        """Seconds from ``mark`` to ``now`` (a ``perf_counter`` value) without the pauses between."""
        return now - mark.at - (self.paused_s - mark.paused_s)

    def wait_while_paused(self, running: threading.Event) -> None:
        """Block until ``running`` is set; the wait counts as paused."""
        start = time.perf_counter()
        while not running.wait(timeout=0.1):
            pass
        self.paused_s += time.perf_counter() - start


@dataclass
class RunParts:
    """What the setup of one run makes.

    Attributes:
        steps: training steps per epoch in this process.
        train_loader: the training batches (None when the recipe makes its own steps).
        sampler: the distributed sampler to set each epoch, or None.
        val_loader: the validation batches, or None without validation data.
        tracker: the best epoch and early stopping.
        mixed_precision, channels_last: what the device and the settings turned on.
        start_epoch: the first epoch to train (after the checkpoint's when resuming).
        probe: the layer statistics' hooks, when ``histogram_every`` asks for them.
    """

    steps: int
    train_loader: Any
    sampler: Any
    val_loader: Any
    tracker: BestTracker
    mixed_precision: bool
    channels_last: bool
    start_epoch: int = 1
    probe: Any = None


    def started_event(self, config: Any, device: torch.device, world_size: int, data: Any) -> RunStarted:
        """The `RunStarted` event that describes this run."""
        return RunStarted(
            config=config.to_dict(), device=devices.describe(device),
            total_epochs=config.epochs, batches_per_epoch=self.steps,
            start_epoch=self.start_epoch, world_size=world_size,
            mixed_precision=self.mixed_precision, channels_last=self.channels_last,
            class_names=getattr(data, "class_names", None))


@dataclass
class RunProgress:
    """How far the run's loop has come: for the time left."""

    started: Mark
    batches_done: int = 0

    def eta_s(self, clock: PauseClock, now: float, batches_left: int) -> float:
        """Seconds the run has left at its pace so far (pauses left out)."""
        return clock.since(self.started, now) / max(self.batches_done, 1) * batches_left


@dataclass
class EpochTally:
    """The running figures of the epoch being trained."""

    started: Mark
    last_event: float
    loss_sums: torch.Tensor
    samples: int = 0

    @classmethod
    def begin(cls, clock: PauseClock, losses: int) -> EpochTally:
        """A fresh tally, started now, for ``losses`` losses per step."""
        started = clock.mark()
        return cls(started, started.at, torch.zeros(losses, dtype=torch.float64))

    def samples_per_s(self, seconds: float, world_size: int) -> float:
        """The epoch's samples, in every one of ``world_size`` processes, per second of ``seconds``."""
        return self.samples * world_size / max(seconds, 1e-9)


_END = object()  # the end of an epoch's batches


class DataWait:
    """The seconds a batch loop waits on the host for its next batch.

    On a GPU, the time the device may stand idle for want of data
    (bench/train.py reports its share).
    """

    def __init__(self):
        self.seconds = 0.0

    def timed(self, batches: Iterable[Any]) -> Iterator[Any]:
        """``batches``, adding the wait for each one to `seconds`."""
        it = iter(batches)
        while True:
            start = time.perf_counter()
            batch = next(it, _END)
            self.seconds += time.perf_counter() - start
            if batch is _END:
                return
            yield batch
