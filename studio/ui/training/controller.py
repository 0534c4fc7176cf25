"""`TrainingController`: runs the Qt-free `Trainer` in a child process and reports in the GUI thread.

The project is copied (as JSON) in the GUI thread when a run starts; the
child process (made ahead by the controller's `Launcher`, `get_ready`)
compiles the models, loads the data and trains (`studio.train.process` says
why a process and not a thread). A QThread of
this process waits on the child's event pipe and emits each event as a signal
connected to a `@Slot` of the controller, which lives in the GUI thread, so
every event crosses threads as a queued signal (docs/architecture.md: never connect a
worker's signal to a lambda or plain function). The trainer already
throttles batch events to about 20 a second.

Pause, resume and stop go down the child's command pipe; asked before the
trainer exists (while data loads) they are applied as soon as it does. A run
ends for the window at its last event; its child exits in the background. A
child that dies without a last event (killed, out of memory) ends the run with
a `RunFailed` that says so.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import torch
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, QTimer, Signal, Slot

from studio.train import BatchEnded, CheckpointSaved, EpochEnded, RunFailed, RunFinished, RunStarted
from studio.train.config import TrainConfig
from studio.train.events import LayersMeasured, RunWarning
from studio.train.launcher import Launcher
from studio.train.process import NotStarted, RunSpec, TrainingProcess, crashed
from studio.train.project_run import optimiser_settings


class _EventThread(QThread):
    """Starts the run's child process and passes on everything it sends.

    Signals (emitted in this thread; connect only to GUI-thread QObject slots):
        event(object): each `studio.train` event.
        not_started(str): the data or the model could not be prepared (a message).
    """

    event = Signal(object)
    not_started = Signal(str)

    def __init__(self, spec: RunSpec, launcher: Launcher, parent: QObject | None = None):
        super().__init__(parent)
        self.process = TrainingProcess(spec, launcher)
        self._out_dir = spec.out_dir

    def run(self) -> None:  # runs in this thread: the GUI never waits for the child to start
        try:
            self.process.start()
        except Exception as exc:  # noqa: BLE001  no process (OSError), or one that cannot start here
            self.not_started.emit(f"could not start the training process: {exc}")
            self.process.close()
            return
        ended = False
        while (message := self.process.next_event()) is not None:
            if isinstance(message, NotStarted):
                self.not_started.emit(message.message)
                ended = True
            else:
                self.event.emit(message)
                ended = ended or isinstance(message, (RunFinished, RunFailed))
        if ended:  # the run is over for the window now, not once the child has exited
            self.process.close_when_ended()
            return
        code = self.process.end(timeout=10)  # it closed its pipe; it may hang on exit
        self.event.emit(crashed(code, self._out_dir))
        self.process.close()


class TrainingController(QObject):
    """Starts, pauses and stops one background run at a time; lives in the GUI thread.

    Signals (all emitted in the GUI thread):
        run_started(RunStarted), batch_ended(BatchEnded), epoch_ended(EpochEnded),
        checkpoint_saved(CheckpointSaved), layers_measured(LayersMeasured): the trainer's events.
        run_finished(RunFinished), run_failed(RunFailed): the last event of a run.
        not_started(str): the run never trained (bad settings or data); the message.
        running_changed(bool): a run's thread started or ended.
        paused_changed(bool): pause or resume took effect.
    """

    run_started = Signal(object)
    layers_measured = Signal(object)
    batch_ended = Signal(object)
    epoch_ended = Signal(object)
    checkpoint_saved = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(object)
    run_warning = Signal(str)  # what the run worked around (a model torch.compile could not compile)
    not_started = Signal(str)
    running_changed = Signal(bool)
    paused_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, event_interval: float = 0.05):
        super().__init__(parent)
        self.event_interval = event_interval
        self._thread: _EventThread | None = None
        self._paused = False
        self.out_dir: Path | None = None
        self.batch_events = 0  # BatchEnded events received in this run (tests, bench)
        self.launcher = Launcher()  # its children rehearse a run before theirs (`launcher.REHEARSAL`)

    # --- state ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether a run is going (starting, preparing, training, paused or stopping)."""
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self._paused

    # --- control ----------------------------------------------------------------------
    def get_ready(self) -> None:
        """Make the next run's child (and the fork server) in the background, if none is ready."""
        self.launcher.get_ready()

    def start(self, project: Any, training: dict, data: dict, root: Path | None,
              out_dir: Path) -> None:
        """Start a run of ``project`` (copied now) with these sections, writing into ``out_dir``.

        Raises:
            TrainingError: the training settings are invalid (checked here, before any thread).
            RuntimeError: a run is already going.
        """
        from studio.graph import io

        if self.running:
            raise RuntimeError("a run is already going; stop it first")
        TrainConfig.from_dict(optimiser_settings(training))  # a bad key or value fails here
        spec = RunSpec(copy.deepcopy(io.to_dict(project)), copy.deepcopy(training), copy.deepcopy(data),
                       None if root is None else str(Path(root).resolve()), str(Path(out_dir).resolve()),
                       self.event_interval, _child_threads(), os.getcwd())
        thread = _EventThread(spec, self.launcher, self)
        thread.event.connect(self._on_event)
        thread.not_started.connect(self._on_not_started)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._paused, self.out_dir, self.batch_events = thread, False, out_dir, 0
        thread.process.start_now()  # the child made ahead prepares while the window sets up the run
        thread.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        if self._thread is not None and not self._paused:
            self._thread.process.pause()
            self._paused = True
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self._thread is not None and self._paused:
            self._thread.process.resume()
            self._paused = False
            self.paused_changed.emit(False)

    def stop(self) -> None:
        """Ask the run to end after its current batch (its last epoch checkpoint stays)."""
        if self._thread is not None:
            self._thread.process.stop()

    def kill(self) -> None:
        """End the run's process at once (a run that does not answer `stop`); the run fails."""
        if self._thread is not None:
            self._thread.process.kill()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Wait for the run to end, keeping the GUI painting; True when it ended.

        Every event the run sent is delivered before this returns.
        """
        thread = self._thread
        if thread is None:
            return True
        if thread.isRunning():
            loop = QEventLoop()
            timer = QTimer(loop)
            timer.setSingleShot(True)
            timer.timeout.connect(loop.quit)
            thread.finished.connect(loop.quit)
            timer.start(timeout_ms)
            loop.exec()  # `_on_thread_finished` may run in here
            timer.stop()
        if self._thread is not thread:
            return True
        if not thread.wait(1000):
            return False
        self._on_thread_finished()  # deliver the last events now, not on the next loop turn
        return True

    # --- from the worker thread (queued) ----------------------------------------------
    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, BatchEnded):
            self.batch_events += 1
            self.batch_ended.emit(event)
        elif isinstance(event, EpochEnded):
            self.epoch_ended.emit(event)
        elif isinstance(event, LayersMeasured):
            self.layers_measured.emit(event)
        elif isinstance(event, CheckpointSaved):
            self.checkpoint_saved.emit(event)
        elif isinstance(event, RunStarted):
            self.run_started.emit(event)
        elif isinstance(event, RunFinished):
            self.run_finished.emit(event)
        elif isinstance(event, RunFailed):
            self.run_failed.emit(event)
        elif isinstance(event, RunWarning):
            self.run_warning.emit(event.message)

    @Slot(str)
    def _on_not_started(self, message: str) -> None:
        self.not_started.emit(message)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is None or thread.isRunning():
            return
        self._thread = None
        self._paused = False
        # Deliver any event still queued (when called from `wait`); a nested call returns at once.
        QCoreApplication.sendPostedEvents(self)
        thread.deleteLater()
        self.running_changed.emit(False)
        self.get_ready()  # the next run's child, made now that this one no longer trains


def _child_threads() -> int:
    """torch threads for the run: this process's, less one core left to the window.

    OpenMP threads wait for each other at every kernel; when the window's
    repaints take one of them off its core, all of them wait.
    """
    return max(1, min(torch.get_num_threads(), (os.cpu_count() or 2) - 1))
