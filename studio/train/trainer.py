"""`Trainer`: the Qt-free training loop, run in the calling thread.

It owns what every task shares (the device, epochs and batches, pause and
stop, the NaN guard, throttled events, checkpoints, metrics.jsonl, early
stopping, resuming) and asks a recipe (`studio.train.recipes`) for the task's
training step and evaluation. A recipe with a ``batches(epoch)`` method makes
each epoch's steps itself (``epoch_steps(config)`` of them) instead of the
trainer batching ``data.train``: the RL recipes, which act in an environment.

The parts, one job each: `trainer_state` (what is kept per run and per
epoch, and the clock that leaves pauses out), `run_setup` (checks, seeding,
models and loaders), `loss_readback` (losses read back only when an event is
due, and the NaN guard), `run_files` (metrics, checkpoints written in the
background, the final files), `run_checkpoint` (what a checkpoint holds,
and resuming from one) and `run_end` (the final weights, the test split, the
last event).
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from studio.train import checkpoint as ckpt
from studio.train import compile_choice, devices, qat, run_checkpoint, run_end
from studio.train import distributed as ddp
from studio.train.compiling import compile_for_training
from studio.train.config import TrainConfig
from studio.train.events import (
    BatchEnded, CheckpointSaved, EpochEnded, Event, RunFailed, RunFinished, RunWarning,
)
from studio.train.failures import Where, explain
from studio.train.layer_stats import LayerProbe
from studio.train.loss_readback import read_back
from studio.train.metric_registry import without_pictures
from studio.train.recipes import RecipeContext, make_recipe
from studio.train.run_files import RunFiles
from studio.train.run_setup import check_fit, keep_data_on_device, make_loaders, place_models, seed_everything
from studio.train.stopping import BestTracker
from studio.train.tensorboard import open_log
from studio.train.trainer_state import DataWait, EpochTally, PauseClock, RunParts, RunProgress

Callback = Callable[[Event], None]

# Seconds between BatchEnded events: about 20 a second.
EVENT_INTERVAL = 0.05
# With several processes, how many batches between the collective checks
# (stop, NaN) every process must make at the same point.
DIST_SYNC_EVERY = 16


class Trainer:
    """Trains ``models`` on ``data`` as ``config`` says, reporting through ``callback``.

    Events sent to ``callback`` (see `studio.train.events`), from the thread
    that calls `run`:

    - ``RunStarted(config, device, total_epochs, batches_per_epoch, start_epoch, ...)``
    - ``BatchEnded(epoch, batch, batches, loss, samples_per_s, lr, eta_s)``, about
      20 a second and always for the last batch of an epoch
    - ``LayersMeasured(epoch, batch, step, layers, grad_norm, ...)`` every
      ``histogram_every`` steps (`studio.train.layer_stats`)
    - ``EpochEnded(epoch, metrics)`` after each epoch's evaluation
    - ``CheckpointSaved(path, epoch)`` once the epoch's checkpoint is on disk
    - ``RunFinished(reason, best, best_epoch, epochs_run, final_weights, test)`` or
      ``RunFailed(message, epoch, batch, last_checkpoint, detail, kind)``, last

    With several processes (torch.distributed initialised) only rank 0 sends
    events and writes files. Every event also goes to the run's TensorBoard
    files when ``training.tensorboard`` makes them (`studio.train.tensorboard`).

    Args:
        models: role -> module; the supervised recipe needs role "model".
        data: a `studio.data.DataSplits` (train, val, test, input_shape, task, ...).
        config: a `TrainConfig`, or a "training" dict to build one from.
        callback: called with each event; may call `pause`, `resume`, `stop`.
        out_dir: folder for checkpoints, metrics.jsonl, final.pt, test.json and
            result.json (`studio.train.checkpoint` lists them; None: no files).
        resume_from: a checkpoint to continue from (see `restore`).
        event_interval: seconds between BatchEnded events.

    Raises:
        TrainingError: the config, the models or the device do not fit.
    """

    def __init__(self, models: dict[str, nn.Module], data: Any,
                 config: TrainConfig | dict[str, Any], callback: Callback | None = None,
                 out_dir: str | Path | None = None, resume_from: str | Path | None = None,
                 event_interval: float = EVENT_INTERVAL):
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        self.config.validate()
        self.models = dict(models)
        self.data = data
        self.callback = callback
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.event_interval = event_interval
        self.dist = ddp.current()
        self.device = devices.resolve_device(self.config.device)
        self.recipe = make_recipe(self.config.recipe)
        check_fit(self.recipe, self.models, data, self.config, self.dist.world_size)
        self.history: list[dict[str, Any]] = []
        self.last_checkpoint: str | None = None
        self._resume_state: dict[str, Any] | None = None
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._clock = PauseClock()
        self._epoch = self._batch = 0  # where the run is, for a failure's message
        self._files = RunFiles(self.out_dir, self.dist.is_main, self.config.keep_checkpoints)
        self._tensorboard = None  # made by `run`, when the settings ask
        self._run: RunParts | None = None  # made by `_setup`
        self._progress: RunProgress | None = None  # made by `_loop`
        self._tally: EpochTally | None = None  # made by `_train_epoch`
        self._data_wait = DataWait()
        if resume_from is not None:
            self.restore(resume_from)

    # --- control, from any thread ---------------------------------------------------

    def pause(self) -> None:
        """Hold the run after the current batch until `resume` or `stop`."""
        self._running.clear()

    def resume(self) -> None:
        """Carry on after `pause`."""
        self._running.set()

    def stop(self) -> None:
        """End the run after the current batch; the last epoch checkpoint stays."""
        self._stop.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        """Whether `pause` holds the run."""
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        """Whether `stop` was called."""
        return self._stop.is_set()

    @property
    def data_wait_s(self) -> float:
        """Seconds the batch loop waited for batches (`trainer_state.DataWait`)."""
        return self._data_wait.seconds

    @property
    def steps(self) -> int:
        """Training steps per epoch in this process (after `run` has set the run up)."""
        return self._run.steps

    @property
    def train_loader(self) -> Any:
        """The training batches (after setup; None when the recipe makes its own steps)."""
        return self._run.train_loader

    def restore(self, path: str | Path) -> None:
        """Continue from checkpoint ``path`` when `run` starts (at its next epoch).

        Raises:
            TrainingError: the file is not a readable checkpoint, or its networks
                do not match this trainer's roles.
        """
        self._resume_state = run_checkpoint.load_for(path, self.models)
        self.last_checkpoint = str(path)

    # --- the run --------------------------------------------------------------------

    def run(self) -> RunFinished | RunFailed:
        """Train to the end, a stop, an early stop or a failure; the last event.

        Never raises for a failure of the run itself (NaN loss, out of memory,
        a model that does not fit the data): it sends and returns `RunFailed`.
        """
        try:
            self._setup()
            self._emit(self._run.started_event(self.config, self.device, self.dist.world_size, self.data))
            result = self._finish(self._loop())
        except Exception as exc:  # every failure becomes one RunFailed event
            self._saved(self._files.settle(), self._safe_emit)
            result = self._failure(exc)
            self._files.write_result(result)
            self._safe_emit(result)
            return result
        finally:
            self._files.close()
        self._files.write_result(result)
        self._emit(result)
        return result

    def _setup(self) -> None:
        c, device = self.config, self.device
        seed_everything(c.seed + self.dist.rank)
        mixed_precision = devices.use_mixed_precision(device, c.mixed_precision)
        channels_last = devices.use_channels_last(device, c.channels_last, getattr(self.data, "input_shape", None))
        qat.prepare(self.models, c.qat)  # before DDP and torch.compile wrap the modules
        train_models = compile_for_training(place_models(self.models, device, channels_last, self.dist),
                                            c.compile, lambda text: self._emit(RunWarning(text)))
        self._compile_choice = compile_choice.for_run(train_models, device, self.dist.active,
                                                      lambda text: self._emit(RunWarning(text)))
        loaders = make_loaders(self.recipe, self.data, c, self.dist, device)
        keep_data_on_device(loaders, device)
        tracker = BestTracker(c.early_stop_metric, c.early_stop_mode, c.early_stop_patience)
        self._run = RunParts(loaders.steps, loaders.train, loaders.sampler, loaders.val, tracker,
                             mixed_precision, channels_last)
        self.recipe.setup(RecipeContext(
            models=train_models, raw_models=self.models, data=self.data, config=c,
            device=device, mixed_precision=mixed_precision,
            channels_last=channels_last, steps_per_epoch=loaders.steps,
            watch_mode=tracker.mode, world_size=self.dist.world_size))
        if self._resume_state is not None:
            self.history, self._run.start_epoch = run_checkpoint.restore(
                self._resume_state, self.models, self.recipe, tracker, device, self.dist, c.seed)
        self._files.start(self.history)
        if c.histogram_every and self.dist.is_main:  # docs/architecture.md: only rank 0 reports
            self._run.probe = LayerProbe(self.models, c.histogram_every)
        self._tensorboard = open_log(c.tensorboard, self.out_dir if self._files.writes else None)

    def _loop(self) -> str:
        self._progress = RunProgress(self._clock.mark())
        for epoch in range(self._run.start_epoch, self.config.epochs + 1):
            self._epoch, self._batch = epoch, 0
            if not self._train_epoch(epoch):
                return "stopped"
            self._batch = 0
            if self._end_epoch(epoch):
                return "early_stopped"
        return "completed"

    # --- one epoch ------------------------------------------------------------------

    def _train_epoch(self, epoch: int) -> bool:
        """Train one epoch; False when asked to stop part way."""
        run, recipe = self._run, self.recipe
        if run.sampler is not None:
            run.sampler.set_epoch(epoch)
        recipe.begin_epoch(epoch)
        batches = self._data_wait.timed(run.train_loader if run.train_loader is not None else recipe.batches(epoch))
        pending: list[torch.Tensor] = []  # this epoch's losses not yet read back
        self._tally = tally = EpochTally.begin(self._clock, len(recipe.loss_names))
        for i, batch in enumerate(batches):
            if not self._running.is_set():
                self._clock.wait_while_paused(self._running)
            self._batch = i + 1
            pending.append(self._compile_choice.run(recipe.batch_size(batch), self._step,
                                                    batch, epoch, i + 1, (epoch - 1) * run.steps + i + 1))
            tally.samples += recipe.batch_size(batch)
            self._progress.batches_done += 1
            last = i + 1 == run.steps
            if self._sync_due(i, last, tally):
                stop = self._sync(epoch, i, last, pending)
                pending = []
                if stop:
                    return False
            if self._stop.is_set() and not self.dist.active:
                return False
        return True

    def _sync_due(self, i: int, last: bool, tally: EpochTally) -> bool:
        """Whether to read the losses back now: every `DIST_SYNC_EVERY` batches with several
        processes (all must meet there), else when an event is due."""
        if self.dist.active:
            return last or (i + 1) % DIST_SYNC_EVERY == 0
        return last or time.perf_counter() - tally.last_event >= self.event_interval

    def _step(self, batch: Any, epoch: int, index: int, step: int) -> torch.Tensor:
        """One training step; with the layer probe's hooks on when it is due (it sends `LayersMeasured`)."""
        probe = self._run.probe
        if probe is None or not probe.due(step):
            return self.recipe.train_step(batch)
        probe.attach()
        try:
            loss = self.recipe.train_step(batch)
        finally:
            probe.detach()
        self._emit(probe.collect(epoch, index, step))
        return loss

    def _sync(self, epoch: int, i: int, last: bool, pending: list[torch.Tensor]) -> bool:
        """Read back the pending losses (batches up to ``i``), guard them, maybe send BatchEnded.

        Returns:
            Whether every process agreed to stop (distributed runs only).

        Raises:
            NonFiniteLoss: a loss was NaN or infinite (here or in another process).
        """
        values, stop = read_back(pending, epoch, i, self.dist, self._stop.is_set(), self.device)
        tally = self._tally
        tally.loss_sums += values.sum(dim=0)
        now = time.perf_counter()
        if last or now - tally.last_event >= self.event_interval:
            tally.last_event = now
            self._emit(self._batch_event(epoch, i, float(values[:, 0].mean()), now))
            self._saved(self._files.poll())
        return stop

    def _batch_event(self, epoch: int, i: int, loss: float, now: float) -> BatchEnded:
        steps, clock = self._run.steps, self._clock
        left = (self.config.epochs - epoch) * steps + (steps - i - 1)
        return BatchEnded(
            epoch=epoch, batch=i + 1, batches=steps, loss=loss,
            samples_per_s=self._tally.samples_per_s(clock.since(self._tally.started, now), self.dist.world_size),
            lr=self.recipe.lr, eta_s=self._progress.eta_s(clock, now, left))

    def _end_epoch(self, epoch: int) -> bool:
        """Evaluate, record, checkpoint; True when early stopping ends the run."""
        self._saved(self._files.wait())  # the last epoch's checkpoint, written while this one trained
        metrics = self._epoch_metrics(epoch)
        watched = metrics.get(self.config.early_stop_metric)
        tracker = self._run.tracker
        improved = tracker.update(epoch, metrics) if self.dist.is_main else False
        early = self.dist.is_main and tracker.should_stop
        if self.dist.active:  # every process must see rank 0's metric and decision
            watched, early = ddp.main_decision(watched, early, self.device)
        self.recipe.end_epoch(epoch, watched)
        record = without_pictures(metrics)  # pictures go to the window, not to metrics.jsonl
        self.history.append(record)
        self._emit(EpochEnded(epoch=epoch, metrics=metrics))
        self._save_epoch(epoch, record, improved)
        return early

    def _epoch_metrics(self, epoch: int) -> dict[str, Any]:
        train_time = self._clock.since(self._tally.started, time.perf_counter())
        means = self._tally.loss_sums / self._run.steps
        if self.dist.active:
            means = ddp.all_mean(means.to(self.device)).cpu()
        metrics: dict[str, Any] = {"epoch": epoch}
        for name, value in zip(self.recipe.loss_names, means.tolist()):
            metrics[f"train_{name}"] = value
        metrics.update(lr=self.recipe.lr, time_s=round(train_time, 4),
                       samples_per_s=self._tally.samples_per_s(train_time, self.dist.world_size))
        if self._run.val_loader is not None and self.dist.is_main:
            metrics.update(self.recipe.evaluate(self._run.val_loader, "val_", with_samples=True))
        return metrics

    # --- files ----------------------------------------------------------------------

    def _save_epoch(self, epoch: int, record: dict[str, Any], improved: bool) -> None:
        """Append the metrics now; write the checkpoint (and best.pt) in the background."""
        if not self._files.writes:
            return
        tracker = self._run.tracker
        best = ckpt.snapshot(run_checkpoint.weights(self.models)) if improved else None
        state = ckpt.snapshot(run_checkpoint.state(epoch, self.models, self.recipe, tracker, self.history,
                                                   self.config, self.device, self.dist.world_size))
        self._saved(self._files.save_epoch(epoch, record, state, best, tracker.best_epoch))

    def _saved(self, event: CheckpointSaved | None, emit: Callback | None = None) -> None:
        if event is not None:
            self.last_checkpoint = event.path
            (emit or self._emit)(event)

    # --- the end --------------------------------------------------------------------

    def _finish(self, reason: str) -> RunFinished:
        self._saved(self._files.wait())
        self._files.sync_pending()
        final = run_end.save_final(self._files, self.models, self.config.qat)
        tested = reason != "stopped" and self.dist.is_main
        test = run_end.evaluate_test_split(self.recipe, self.data, self.config, self.device) if tested else None
        return run_end.finished(reason, self._run.tracker, self.history, final, test)

    def _failure(self, exc: Exception) -> RunFailed:
        return explain(exc, Where(
            epoch=self._epoch, batch=self._batch, last_checkpoint=self.last_checkpoint,
            lr=self.config.lr, batch_size=self.config.batch_size,
            device=devices.describe(self.device)))

    def _emit(self, event: Event) -> None:
        if self._tensorboard is not None:
            self._tensorboard.write(event)
        if self.callback is not None and self.dist.is_main:
            self.callback(event)

    def _safe_emit(self, event: Event) -> None:
        try:
            self._emit(event)
        except Exception:  # a callback that fails on RunFailed must not hide the failure
            traceback.print_exc()


def resume(path: str | Path, models: dict[str, nn.Module], data: Any,
           config: TrainConfig | dict[str, Any] | None = None, **kwargs: Any) -> Trainer:
    """A `Trainer` that continues the run of checkpoint ``path``.

    The config is the checkpoint's unless ``config`` is given (e.g. to train
    more epochs); other keyword arguments go to `Trainer`.
    """
    state = ckpt.load_checkpoint(path)
    if config is None:
        config = TrainConfig.from_dict(state["config"])
    return Trainer(models, data, config, resume_from=path, **kwargs)
