"""`RunState`: where one run stands, as a window shows it, driven by the training events alone.

    idle ──Train──► starting ──RunStarted──► running ◄──pause/resume──► paused
                       │                        │  (stop: stopping)
                       └─ not started           └─► finished | stopped | failed

Batch events update the progress figures; `progress_text` is the line a
progress bar shows ("Epoch 3/8 · batch 10/20 · 1,234 samples/s · 12 s left
(paused)"). Nothing here knows Qt: the training dock feeds it the
controller's events and draws what it says, and tests drive it without a
screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from studio.train.checkpoint import files_summary
from studio.train.events import BatchEnded, Event, RunFailed, RunFinished, RunStarted
from studio.train.metric_registry import summary_line

ENDED = ("finished", "stopped", "failed", "not_started")
_WORDS = {"completed": "finished", "stopped": "stopped", "early_stopped": "stopped early"}


@dataclass
class RunState:
    """One run's phase and figures (see the module docstring)."""

    phase: str = "idle"
    start_epoch: int = 1
    total_epochs: int = 0
    batches_per_epoch: int = 0
    epoch: int = 0
    batch: int = 0
    samples_per_s: float = 0.0
    eta_s: float = math.nan
    ended_as: str = ""   # "finished", "stopped", "stopped early", or where it failed

    def not_started(self) -> None:
        """It could not start (bad settings): no run."""
        self.phase = "not_started"

    def set_paused(self, paused: bool) -> None:
        """Paused or resumed (only a running or paused run changes)."""
        if self.phase in ("running", "paused"):
            self.phase = "paused" if paused else "running"

    def stopping(self) -> None:
        """Stop was asked: it ends after the current batch."""
        if self.phase in ("running", "paused", "starting"):
            self.phase = "stopping"

    def apply(self, event: Event) -> None:
        """Follows one event of the run."""
        if isinstance(event, RunStarted):
            self.phase = "running"
            self.start_epoch, self.total_epochs = event.start_epoch, event.total_epochs
            self.batches_per_epoch = event.batches_per_epoch
            self.epoch = event.start_epoch
        elif isinstance(event, BatchEnded):
            self.epoch, self.batch, self.batches_per_epoch = event.epoch, event.batch, event.batches
            self.samples_per_s, self.eta_s = event.samples_per_s, event.eta_s
        elif isinstance(event, RunFinished):
            self.phase = "finished" if event.reason == "completed" else "stopped"
            self.epoch, self.ended_as = event.epochs_run, _WORDS.get(event.reason, event.reason)
        elif isinstance(event, RunFailed):
            self.phase = "failed"
            self.epoch, self.batch = event.epoch, event.batch
            self.ended_as = (f" at epoch {event.epoch}, batch {event.batch}" if event.batch
                             else (f" in epoch {event.epoch}" if event.epoch else ""))

    @property
    def active(self) -> bool:
        """Between Train and the run's end."""
        return self.phase in ("starting", "running", "paused", "stopping")

    @property
    def total_batches(self) -> int:
        """Batches this run trains (0 until it has started)."""
        return max(self.total_epochs - self.start_epoch + 1, 0) * self.batches_per_epoch

    @property
    def done_batches(self) -> int:
        """Batches trained so far."""
        if self.phase == "finished":
            return self.total_batches
        return max(self.epoch - self.start_epoch, 0) * self.batches_per_epoch + self.batch

    def progress_text(self) -> str:
        """The progress bar's line."""
        if self.phase == "idle":
            return "Ready"
        if self.phase == "starting":
            return "Preparing the data and the model…"
        if self.phase == "not_started":
            return "Not started"
        if self.phase == "stopping":
            return "Stopping after this batch…"
        if self.phase in ("finished", "stopped"):
            return f"{self.ended_as.capitalize()} · epoch {self.epoch}"
        if self.phase == "failed":
            return f"Failed{self.ended_as}"
        if not self.batch:
            text = f"Epoch {self.epoch}/{self.total_epochs}"
        else:
            text = (f"Epoch {self.epoch}/{self.total_epochs} · batch {self.batch}/{self.batches_per_epoch} · "
                    f"{self.samples_per_s:,.0f} samples/s · {duration(self.eta_s)} left")
        return text + (" (paused)" if self.phase == "paused" else "")


def started_line(e: RunStarted, label: str, out_dir) -> str:
    """The summary line of a run that has started: device, epochs, batches and where it writes."""
    extras = ", bf16" if e.mixed_precision else ""
    return (f"{label}: training on {e.device}{extras}, {e.total_epochs} epochs of {e.batches_per_epoch} batches; "
            f"writing to {out_dir}")


def finished_line(ended_as: str, e: RunFinished, out_dir=None) -> str:
    """The summary line of a run that ended: how, its best epoch, its test figures and its files."""
    text = f"Training {ended_as} after {e.epochs_run} epoch(s)"
    if e.best_epoch:
        best = summary_line(e.best)
        text += f"; best epoch {e.best_epoch}" + (f": {best}" if best else "")
    if e.test:
        text += f"; test: {summary_line(e.test, prefix='test_')}"
    return text + (f". Files in {files_summary(out_dir)}" if out_dir is not None else "")


def duration(seconds: float) -> str:
    """A time left in short form: 42 s, 3:05, 1:02:03 (``?`` when unknown)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{s:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{s:02d}"
