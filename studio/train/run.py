"""Training from the command line: arguments, overrides and a progress bar.

The CLI's ``studio train FILE`` adds its arguments with `add_train_arguments`,
folds them into the project's "training" and "data" sections with
`apply_overrides`, and trains with `run_training` (one process) or
`studio.train.distributed.launch_spec` (``--nproc`` above 1).

    --data SRC          data source (sets data.source)
    --epochs N          sets training.epochs
    --device D          auto, cpu, cuda, cuda:N, mps (sets training.device)
    --seed N            sets training.seed: the initial weights, data order and
                        dropout; the same seed gives the same run on the CPU
    --nproc N           processes for data-parallel training (default 1)
    --out DIR           output folder for checkpoints, metrics.jsonl, final.pt
    --set KEY=VALUE     any training key (lr=0.01) or data key (data.val_split=0.1,
                        data.augment.flip=true); VALUE is read as JSON when it
                        parses, else as a string
    --resume CKPT       continue from a checkpoint (last.pt, checkpoint_epochN.pt)
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from torch import nn

from studio.errors import TrainingError
from studio.train.config import TrainConfig, field_names
from studio.train.events import BatchEnded, EpochEnded, Event, RunFailed, RunFinished, RunStarted, RunWarning
from studio.train.metric_registry import summary_line
from studio.train.trainer import Callback, Trainer


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the training options of ``studio train`` to ``parser``."""
    parser.add_argument("--data", metavar="SRC", help="data source (sets data.source)")
    parser.add_argument("--epochs", type=int, metavar="N", help="epochs to train")
    parser.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="random seed (sets training.seed); the same seed repeats a run on the CPU")
    parser.add_argument("--nproc", type=int, default=1, metavar="N",
                        help="processes for data-parallel training (torchrun)")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for checkpoints, metrics.jsonl and final.pt")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="set a training key (lr=0.01) or data key (data.val_split=0.1)")
    parser.add_argument("--resume", metavar="CKPT", help="continue from this checkpoint")


def apply_overrides(training: dict[str, Any], data: dict[str, Any],
                    args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The "training" and "data" sections with the command line's options applied.

    The inputs are not changed; new dicts are returned. The training section is
    checked as a whole (`TrainConfig.from_dict`).

    Raises:
        TrainingError: an unknown training key, a ``--set`` without ``=``, or a bad value.
    """
    training, data = dict(training or {}), dict(data or {})
    if getattr(args, "epochs", None) is not None:
        training["epochs"] = args.epochs
    if getattr(args, "device", None) is not None:
        training["device"] = args.device
    if getattr(args, "seed", None) is not None:
        training["seed"] = args.seed
    if getattr(args, "data", None) is not None:
        data["source"] = args.data
    for item in getattr(args, "overrides", None) or []:
        key, value = _split_override(item)
        if key.startswith("data."):
            _set_nested(data, key[len("data."):].split("."), value)
            continue
        key = key[len("training."):] if key.startswith("training.") else key
        if key not in field_names():
            raise TrainingError(
                f"--set {item}: unknown training key '{key}'; allowed: {', '.join(field_names())} "
                f"(data settings take 'data.' in front, e.g. data.val_split=0.1)")
        training[key] = value
    TrainConfig.from_dict(training)
    return training, data


def _set_nested(section: dict[str, Any], path: list[str], value: Any) -> None:
    """``data.augment.flip=true`` sets ``data["augment"]["flip"]`` (a copy of each level)."""
    for name in path[:-1]:
        inner = section.get(name)
        section[name] = dict(inner) if isinstance(inner, dict) else {}
        section = section[name]
    section[path[-1]] = value


def _split_override(item: str) -> tuple[str, Any]:
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise TrainingError(f"--set {item}: expected KEY=VALUE, e.g. --set lr=0.01")
    try:
        value = json.loads(text)
    except ValueError:
        value = text  # a bare word: device=cuda, optimizer=sgd
    return key.strip(), value


def run_training(models: dict[str, nn.Module], data: Any, config: TrainConfig | dict[str, Any],
                 out_dir: str | Path | None, progress: bool = True,
                 callback: Callback | None = None,
                 resume_from: str | Path | None = None) -> RunFinished | RunFailed:
    """Train in this thread with a tqdm progress bar on stderr; the last event.

    In the main thread, a first Ctrl-C stops the run after the current batch
    (``RunFinished(reason="stopped")``, checkpoints kept); a second one raises
    KeyboardInterrupt.

    Args:
        models: role -> module ("model" for supervised training).
        data: the `DataSplits`.
        config: a `TrainConfig` or a "training" dict.
        out_dir: output folder (checkpoints, metrics.jsonl, final.pt).
        progress: show the bar and one line per epoch on stderr.
        callback: also called with every event.
        resume_from: a checkpoint to continue from.

    Raises:
        TrainingError: the config, models, device or checkpoint do not fit
            (before training starts); failures while training are returned.
    """
    bar = _ProgressBar() if progress else None

    def on_event(event: Event) -> None:
        if bar is not None:
            bar(event)
        if callback is not None:
            callback(event)

    trainer = Trainer(models, data, config, callback=on_event, out_dir=out_dir,
                      resume_from=resume_from)
    try:
        with _stop_on_interrupt(trainer):
            return trainer.run()
    finally:
        if bar is not None:
            bar.close()


@contextmanager
def _stop_on_interrupt(trainer: Trainer) -> Iterator[None]:
    """While training, a first Ctrl-C stops after the current batch; a second aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        if trainer.stop_requested:
            raise KeyboardInterrupt
        trainer.stop()
        print("\nstopping after this batch (Ctrl-C again to abort)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _ProgressBar:
    """One tqdm bar over every batch of the run, and a line per epoch."""

    def __init__(self) -> None:
        self.bar = None
        self.total_epochs = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._start(event)
        elif isinstance(event, BatchEnded) and self.bar is not None:
            self.bar.set_description(f"epoch {event.epoch}/{self.total_epochs}", refresh=False)
            self.bar.set_postfix_str(
                f"loss {event.loss:.4g}, {event.samples_per_s:,.0f} samples/s", refresh=False)
            self.bar.update((event.epoch - 1) * event.batches + event.batch - self.bar.n)
        elif isinstance(event, EpochEnded) and self.bar is not None:
            self.bar.write(f"epoch {event.epoch}/{self.total_epochs}: {summary_line(event.metrics)}", file=sys.stderr)
        elif isinstance(event, RunWarning):
            (self.bar.write if self.bar is not None else print)(f"warning: {event.message}", file=sys.stderr)
        elif isinstance(event, RunFinished) and self.bar is not None:
            self.bar.write(_finished_line(event), file=sys.stderr)
            if event.test:
                self.bar.write(_test_line(event.test), file=sys.stderr)

    def _start(self, event: RunStarted) -> None:
        from tqdm import tqdm

        self.total_epochs = event.total_epochs
        self.bar = tqdm(total=event.total_epochs * event.batches_per_epoch,
                        initial=(event.start_epoch - 1) * event.batches_per_epoch,
                        unit="batch", file=sys.stderr, dynamic_ncols=True, leave=True,
                        desc=f"epoch {event.start_epoch}/{event.total_epochs}")
        self.bar.write(f"training on {event.device}"
                       + (f" x{event.world_size} processes" if event.world_size > 1 else "")
                       + (", bf16 autocast" if event.mixed_precision else ""), file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _test_line(test: dict[str, Any]) -> str:
    """The test split's figures: ``test: loss 0.1234, accuracy 0.97, ...``."""
    return f"test: {summary_line(test, prefix='test_')}"


def _finished_line(event: RunFinished) -> str:
    best = summary_line(event.best)
    text = f"{event.reason.replace('_', ' ')} after epoch {event.epochs_run}"
    if event.best_epoch:
        text += f"; best epoch {event.best_epoch}: {best}"
    if event.final_weights:
        text += f"; weights in {event.final_weights}"
    return text
