"""`Trainer`: the Qt-free training loop, run in the calling thread.

It owns what every task shares (the device, epochs and batches, pause and
stop, the NaN guard, throttled events, checkpoints, metrics.jsonl, early
stopping, resuming) and asks a recipe (`studio.train.recipes`) for the task's
training step and evaluation. A recipe with a ``batches(epoch)`` method makes
each epoch's steps itself (``epoch_steps(config)`` of them) instead of the
trainer batching ``data.train``: the RL recipes, which act in an environment.

The batch loop keeps each batch's loss as a tensor on the device (a
reference in a list: nothing is copied) and reads them back together only
when an event is due (about 20 times a second, and at the end of each epoch),
so it waits for the GPU no more often than that. The NaN guard checks every
one of those losses, so the batch it names is the exact first batch whose
loss was not finite.

Resuming from a checkpoint restores the models, optimizer and schedule, the
metrics history, the early-stopping state and the RNG; with the epoch-seeded
data order (`studio.train.loaders`) the run continues exactly as if it had
never stopped.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from studio.errors import TrainingError
from studio.train import checkpoint as ckpt
from studio.train import devices
from studio.train import distributed as ddp
from studio.train import qat
from studio.train.compiling import compile_for_training
from studio.train.config import TrainConfig
from studio.train.events import (
    BatchEnded, CheckpointSaved, EpochEnded, Event, RunFailed, RunFinished, RunStarted, RunWarning, event_to_dict,
)
from studio.train.failures import NonFiniteLoss, Where, explain
from studio.train.layer_stats import LayerProbe
from studio.train.loaders import InMemoryBatches, device_budget, eval_loader, train_loader
from studio.train.metric_registry import without_pictures
from studio.train.recipes import RecipeContext, make_recipe
from studio.train.stopping import BestTracker
from studio.train.tensorboard import open_log

Callback = Callable[[Event], None]

# Seconds between BatchEnded events: about 20 a second.
EVENT_INTERVAL = 0.05
# With several processes, how many batches between the collective checks
# (stop, NaN) every process must make at the same point.
DIST_SYNC_EVERY = 16
_END = object()  # the end of an epoch's batches


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
        self._check_fit()
        self.history: list[dict[str, Any]] = []
        self.last_checkpoint: str | None = None
        self._resume_state: dict[str, Any] | None = None
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._pause_total = 0.0
        self._epoch = self._batch = 0
        self._tensorboard = self._probe = None  # made by `run`, when the settings ask
        self.data_wait_s = 0.0  # seconds the batch loop waited for batches (`_timed`)
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

    def restore(self, path: str | Path) -> None:
        """Continue from checkpoint ``path`` when `run` starts (at its next epoch).

        Raises:
            TrainingError: the file is not a readable checkpoint, or its networks
                do not match this trainer's roles.
        """
        state = ckpt.load_checkpoint(path)
        missing = set(self.models) ^ set(state["models"])
        if missing:
            raise TrainingError(
                f"{path}: the checkpoint holds networks {sorted(state['models'])}, "
                f"this run trains {sorted(self.models)}")
        self._resume_state = state
        self.last_checkpoint = str(path)

    # --- the run --------------------------------------------------------------------

    def run(self) -> RunFinished | RunFailed:
        """Train to the end, a stop, an early stop or a failure; the last event.

        Never raises for a failure of the run itself (NaN loss, out of memory,
        a model that does not fit the data): it sends and returns `RunFailed`.
        """
        self._writer = ckpt.BackgroundWriter()
        self._sync_clock = ckpt.SyncClock()
        self._unsynced: dict[str, Path] = {}  # written without fsync since the last one with it
        try:
            self._setup()
            self._emit(self._started_event())
            result = self._finish(self._loop())
        except Exception as exc:  # every failure becomes one RunFailed event
            self._settle_writes()
            result = self._failure(exc)
            self._write_result(result)
            self._safe_emit(result)
            return result
        finally:
            self._writer.close()
        self._write_result(result)
        self._emit(result)
        return result

    def _write_result(self, result: RunFinished | RunFailed) -> None:
        """result.json (and test.json) in the output folder: how the run ended, for whoever reads it later."""
        if not self._writes_files or not self.out_dir.is_dir():
            return
        try:
            if isinstance(result, RunFinished) and result.test:
                ckpt.write_json(self.out_dir / "test.json", result.test)
            ckpt.write_json(self.out_dir / "result.json", event_to_dict(result))
        except OSError:  # a full disk: the event still reaches the caller
            traceback.print_exc()

    def _check_fit(self) -> None:
        recipe, c = self.config.recipe, self.config
        missing = [r for r in self.recipe.roles if r not in self.models]
        if missing:
            raise TrainingError(
                f"the {recipe} recipe needs a network in role '{missing[0]}'; "
                f"got: {', '.join(self.models) or 'none'}")
        task = getattr(self.data, "task", None)
        if task not in self.recipe.tasks:
            raise TrainingError(
                f"training.recipe: the {recipe} recipe trains {' or '.join(self.recipe.tasks)} "
                f"data, and this data is for {task!r}; choose the recipe for that task")
        watching = c.early_stop_patience > 0 or c.schedule == "plateau"
        names = self.recipe.metric_names(self.data)
        if watching and c.early_stop_metric not in names:
            raise TrainingError(
                f"training.early_stop_metric: '{c.early_stop_metric}' is not reported "
                f"for this task; choose one of {', '.join(names)}")
        val = getattr(self.data, "val", None)
        if watching and c.early_stop_metric.startswith("val_") and (val is None or not len(val)):
            raise TrainingError(
                f"training.early_stop_metric: '{c.early_stop_metric}' needs validation data, "
                f"and the validation split is empty; set data.val_split above 0, or turn off "
                f"early stopping and the plateau schedule")
        world = self.dist.world_size
        if self.config.batch_size % world:
            raise TrainingError(
                f"training.batch_size: {self.config.batch_size} does not split over {world} "
                f"processes; use a multiple of {world}")

    def _setup(self) -> None:
        c = self.config
        self._seed(c.seed + self.dist.rank)
        self.mixed_precision = devices.use_mixed_precision(self.device, c.mixed_precision)
        self.channels_last = devices.use_channels_last(
            self.device, c.channels_last, getattr(self.data, "input_shape", None))
        qat.prepare(self.models, c.qat)  # before DDP and torch.compile wrap the modules
        train_models = compile_for_training(self._place_models(), c.compile,
                                            lambda text: self._emit(RunWarning(text)))
        pin = self.device.type == "cuda"
        if hasattr(self.recipe, "batches"):  # it makes its own steps (an RL recipe acts in an env)
            self.train_loader, self.sampler = None, None
            self.steps = self.recipe.epoch_steps(c)
        else:
            self.train_loader, self.sampler = train_loader(
                self.data.train, c.batch_size // self.dist.world_size, seed=c.seed,
                rank=self.dist.rank, world_size=self.dist.world_size,
                num_workers=c.num_workers, pin_memory=pin)
            self.steps = len(self.train_loader)
        if self.steps == 0:
            raise TrainingError("data: the training split is empty; check the data settings")
        val = getattr(self.data, "val", None)
        self.val_loader = eval_loader(val, c.batch_size, num_workers=c.num_workers,
                                      pin_memory=pin) if val is not None and len(val) else None
        self._keep_data_on_device()
        self.tracker = BestTracker(c.early_stop_metric, c.early_stop_mode, c.early_stop_patience)
        self.recipe.setup(RecipeContext(
            models=train_models, raw_models=self.models, data=self.data, config=c,
            device=self.device, mixed_precision=self.mixed_precision,
            channels_last=self.channels_last, steps_per_epoch=self.steps,
            watch_mode=self.tracker.mode, world_size=self.dist.world_size))
        self.start_epoch = 1
        if self._resume_state is not None:
            self._apply_resume(self._resume_state)
        if self._writes_files:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            ckpt.rewrite_metrics(self.out_dir / "metrics.jsonl", self.history)
            for name in ("test.json", "result.json"):  # an earlier run's end, not this one's
                (self.out_dir / name).unlink(missing_ok=True)
        if c.histogram_every and self.dist.is_main:  # docs/architecture.md: only rank 0 reports
            self._probe = LayerProbe(self.models, c.histogram_every)
        self._tensorboard = open_log(c.tensorboard, self.out_dir if self._writes_files else None)

    def _keep_data_on_device(self) -> None:
        budget = device_budget(self.device)
        for loader in (self.train_loader, self.val_loader):
            if isinstance(loader, InMemoryBatches) and budget > 0 and loader.keep_on(
                    self.device, budget):
                budget -= sum(t.numel() * t.element_size() for t in loader.data.tensors)

    def _place_models(self) -> dict[str, nn.Module]:
        train_models = {}
        for role, model in self.models.items():
            model.to(self.device)
            if self.channels_last:
                model.to(memory_format=torch.channels_last)
            train_models[role] = ddp.wrap(model, self.device) if self.dist.active else model
        return train_models

    @staticmethod
    def _seed(seed: int) -> None:
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)

    def _apply_resume(self, state: dict[str, Any]) -> None:
        for role, model in self.models.items():
            model.load_state_dict(state["models"][role])
        self.recipe.load_state_dict(state["recipe"])
        self.tracker.load_state_dict(state["tracker"])
        self.history = list(state["history"])
        self.start_epoch = int(state["epoch"]) + 1
        rng = state.get("rng", {})
        if self.dist.is_main and "torch" in rng:
            torch.set_rng_state(rng["torch"])
            if self.device.type == "cuda" and rng.get("cuda"):
                torch.cuda.set_rng_state_all(rng["cuda"])
        elif not self.dist.is_main:  # other ranks' streams are not saved: a fresh one
            self._seed(self.config.seed + self.dist.rank + 1009 * self.start_epoch)

    def _started_event(self) -> RunStarted:
        return RunStarted(
            config=self.config.to_dict(), device=devices.describe(self.device),
            total_epochs=self.config.epochs, batches_per_epoch=self.steps,
            start_epoch=self.start_epoch, world_size=self.dist.world_size,
            mixed_precision=self.mixed_precision, channels_last=self.channels_last,
            class_names=getattr(self.data, "class_names", None))

    def _loop(self) -> str:
        self._run_start = time.perf_counter()
        self._run_pause0 = self._pause_total
        self._batches_done = 0
        for epoch in range(self.start_epoch, self.config.epochs + 1):
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
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
        self.recipe.begin_epoch(epoch)
        batches = self.train_loader if self.train_loader is not None else self.recipe.batches(epoch)
        batches = self._timed(batches)
        pending: list[torch.Tensor] = []  # this epoch's losses not yet read back
        steps, recipe = self.steps, self.recipe
        self._epoch_start, self._epoch_pause0 = time.perf_counter(), self._pause_total
        self._samples, self._last_event = 0, self._epoch_start
        self._loss_sums = torch.zeros(len(recipe.loss_names), dtype=torch.float64)
        distributed = self.dist.active
        for i, batch in enumerate(batches):
            if not self._running.is_set():
                self._wait_while_paused()
            self._batch = i + 1
            step = (epoch - 1) * steps + i + 1
            if self._probe is not None and self._probe.due(step):
                pending.append(self._measured_step(batch, epoch, i + 1, step))
            else:
                pending.append(recipe.train_step(batch))
            self._samples += recipe.batch_size(batch)
            self._batches_done += 1
            last = i + 1 == steps
            if distributed:
                if last or (i + 1) % DIST_SYNC_EVERY == 0:
                    stop = self._sync(epoch, i, last, pending)
                    pending = []
                    if stop:
                        return False
            elif last or time.perf_counter() - self._last_event >= self.event_interval:
                self._sync(epoch, i, last, pending)
                pending = []
            if self._stop.is_set() and not distributed:
                return False
        return True

    def _measured_step(self, batch: Any, epoch: int, index: int, step: int) -> torch.Tensor:
        """One training step with the layer probe's hooks on; sends its `LayersMeasured`."""
        self._probe.attach()
        try:
            loss = self.recipe.train_step(batch)
        finally:
            self._probe.detach()
        self._emit(self._probe.collect(epoch, index, step))
        return loss

    def _timed(self, batches: Any) -> Any:
        """``batches``, adding the seconds spent waiting for each one to ``data_wait_s``.

        The wait on the host for the next batch: on a GPU, the time the device
        may stand idle for want of data (bench/train.py reports its share).
        """
        it = iter(batches)
        while True:
            start = time.perf_counter()
            batch = next(it, _END)
            self.data_wait_s += time.perf_counter() - start
            if batch is _END:
                return
            yield batch

    def _sync(self, epoch: int, i: int, last: bool, pending: list[torch.Tensor]) -> bool:
        """Read back the pending losses (batches up to ``i``), guard them, maybe send BatchEnded.

        Returns:
            Whether every process agreed to stop (distributed runs only).

        Raises:
            NonFiniteLoss: a loss was NaN or infinite (here or in another process).
        """
        chunk = torch.stack(pending).reshape(len(pending), -1)
        stop = bad_elsewhere = False
        if self.dist.active:
            flags = torch.stack([(~torch.isfinite(chunk)).any().float(),
                                 torch.tensor(float(self._stop.is_set()), device=self.device)])
            bad_elsewhere, stop = (v > 0 for v in ddp.all_max(flags).tolist())
        values = chunk.to("cpu", torch.float64)  # the one wait for the device
        finite = torch.isfinite(values).all(dim=1)
        if not bool(finite.all()):
            first = int((~finite).nonzero()[0, 0])
            raise NonFiniteLoss(epoch, i + 2 - len(pending) + first, float(values[first, 0]))
        if bad_elsewhere:
            raise NonFiniteLoss(epoch, i + 1, math.nan, elsewhere=True)
        self._loss_sums += values.sum(dim=0)
        now = time.perf_counter()
        if last or now - self._last_event >= self.event_interval:
            self._last_event = now
            self._emit(self._batch_event(epoch, i, float(values[:, 0].mean()), now))
            self._saved(self._writer.poll())
        return stop

    def _batch_event(self, epoch: int, i: int, loss: float, now: float) -> BatchEnded:
        epoch_time = now - self._epoch_start - (self._pause_total - self._epoch_pause0)
        run_time = now - self._run_start - (self._pause_total - self._run_pause0)
        left = (self.config.epochs - epoch) * self.steps + (self.steps - i - 1)
        return BatchEnded(
            epoch=epoch, batch=i + 1, batches=self.steps, loss=loss,
            samples_per_s=self._samples * self.dist.world_size / max(epoch_time, 1e-9),
            lr=self.recipe.lr, eta_s=run_time / max(self._batches_done, 1) * left)

    def _wait_while_paused(self) -> None:
        start = time.perf_counter()
        while not self._running.wait(timeout=0.1):
            pass
        self._pause_total += time.perf_counter() - start

    def _end_epoch(self, epoch: int) -> bool:
        """Evaluate, record, checkpoint; True when early stopping ends the run."""
        self._saved(self._writer.wait())  # the last epoch's checkpoint, written while this one trained
        metrics = self._epoch_metrics(epoch)
        watched = metrics.get(self.config.early_stop_metric)
        improved = self.tracker.update(epoch, metrics) if self.dist.is_main else False
        early = self.dist.is_main and self.tracker.should_stop
        if self.dist.active:  # every process must see rank 0's metric and decision
            shared = torch.tensor([math.nan if watched is None else float(watched), float(early)],
                                  device=self.device, dtype=torch.float64)
            value, flag = ddp.from_main(shared).tolist()
            watched, early = (None if math.isnan(value) else value), flag > 0
        self.recipe.end_epoch(epoch, watched)
        record = without_pictures(metrics)  # pictures go to the window, not to metrics.jsonl
        self.history.append(record)
        self._emit(EpochEnded(epoch=epoch, metrics=metrics))
        self._save_epoch(epoch, record, improved)
        return early

    def _epoch_metrics(self, epoch: int) -> dict[str, Any]:
        now = time.perf_counter()
        train_time = now - self._epoch_start - (self._pause_total - self._epoch_pause0)
        means = self._loss_sums / self.steps
        if self.dist.active:
            means = ddp.all_mean(means.to(self.device)).cpu()
        metrics: dict[str, Any] = {"epoch": epoch}
        for name, value in zip(self.recipe.loss_names, means.tolist()):
            metrics[f"train_{name}"] = value
        metrics.update(lr=self.recipe.lr, time_s=round(train_time, 4),
                       samples_per_s=self._samples * self.dist.world_size / max(train_time, 1e-9))
        if self.val_loader is not None and self.dist.is_main:
            metrics.update(self.recipe.evaluate(self.val_loader, "val_", with_samples=True))
        return metrics

    # --- files ----------------------------------------------------------------------

    @property
    def _writes_files(self) -> bool:
        return self.out_dir is not None and self.dist.is_main

    def _save_epoch(self, epoch: int, record: dict[str, Any], improved: bool) -> None:
        """Append the metrics now; write the checkpoint (and best.pt) in the background."""
        if not self._writes_files:
            return
        ckpt.append_metrics(self.out_dir / "metrics.jsonl", record)
        best = ckpt.snapshot(self._weights()) if improved else None
        state = ckpt.snapshot(self._checkpoint_state(epoch))
        best_epoch = self.tracker.best_epoch
        self._saved(self._writer.submit(lambda: self._write_epoch(epoch, state, best, best_epoch)))

    def _write_epoch(self, epoch: int, state: dict[str, Any], best: Any, best_epoch: int) -> CheckpointSaved:
        """Runs on the writer's thread: touches files only, never the trainer's state."""
        sync = self._sync_clock.due()
        if sync:  # what earlier epochs left in the cache goes to the disk with this one
            self._sync_pending()
        if best is not None:
            ckpt.atomic_save(best, self.out_dir / "best.pt", sync=sync)
        path = ckpt.atomic_save(state, ckpt.epoch_path(self.out_dir, epoch), sync=sync)
        if not sync:
            self._unsynced["checkpoint"] = path
            if best is not None:
                self._unsynced["best"] = self.out_dir / "best.pt"
        ckpt.atomic_link(path, self.out_dir / "last.pt")
        ckpt.prune(self.out_dir, self.config.keep_checkpoints, upto=epoch, best=best_epoch)
        return CheckpointSaved(path=str(path), epoch=epoch)

    def _saved(self, event: CheckpointSaved | None, emit: Callback | None = None) -> None:
        if event is not None:
            self.last_checkpoint = event.path
            (emit or self._emit)(event)

    def _sync_pending(self) -> None:
        """Force the newest checkpoint and best.pt, if written without it, to the disk."""
        ckpt.sync_files(list(self._unsynced.values()))
        self._unsynced.clear()

    def _settle_writes(self) -> None:
        """After a failure: let a pending checkpoint land, so the message names what is on disk."""
        try:
            event = self._writer.wait()
        except Exception:  # noqa: BLE001  the failure being reported matters more than this write's
            return
        self._saved(event, self._safe_emit)
        with contextlib.suppress(OSError):  # the file is in place; only forcing it to the disk failed
            self._sync_pending()

    def _checkpoint_state(self, epoch: int) -> dict[str, Any]:
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "format": ckpt.FORMAT, "version": ckpt.VERSION, "epoch": epoch,
            "models": {role: m.state_dict() for role, m in self.models.items()},
            "recipe": self.recipe.state_dict(), "tracker": self.tracker.state_dict(),
            "history": self.history, "config": self.config.to_dict(), "rng": rng,
            "world_size": self.dist.world_size,
        }

    def _weights(self) -> dict[str, Any]:
        """final.pt / best.pt content: one state_dict, or one per role."""
        states = {role: m.state_dict() for role, m in self.models.items()}
        return states["model"] if list(states) == ["model"] else states

    # --- the end --------------------------------------------------------------------

    def _finish(self, reason: str) -> RunFinished:
        self._saved(self._writer.wait())
        self._sync_pending()
        final = None
        if self._writes_files:
            final = str(ckpt.atomic_save(self._weights(), self.out_dir / "final.pt"))
            if self.config.qat != "off":
                qat.save_converted(self.models, self.out_dir)
        test = None
        test_data = getattr(self.data, "test", None)
        if reason != "stopped" and self.dist.is_main and test_data is not None and len(test_data):
            loader = eval_loader(test_data, self.config.batch_size,
                                 num_workers=self.config.num_workers,
                                 pin_memory=self.device.type == "cuda")
            test = {k: v for k, v in self.recipe.evaluate(loader, "test_").items()
                    if isinstance(v, (int, float))}
        return RunFinished(reason=reason, best=dict(self.tracker.best_metrics),
                           best_epoch=self.tracker.best_epoch,
                           epochs_run=self.history[-1]["epoch"] if self.history else 0,
                           final_weights=final, test=test)

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
