"""`TrainingController`: runs the Qt-free `Trainer` on a QThread and reports in the GUI thread.

The project is copied (as JSON) in the GUI thread when a run starts; the
worker thread then compiles the models, loads the data and trains, so a slow
data source never freezes the window. The trainer's callback emits a signal
of the thread object; it is connected to a `@Slot` of the controller, which
lives in the GUI thread, so every event crosses threads as a queued signal
(DESIGN.md: never connect a worker's signal to a lambda or plain function).
The trainer already throttles batch events to about 20 a second.

Pause, resume and stop are forwarded to the trainer (thread-safe); asked
before the trainer exists (while data loads) they are applied as soon as it does.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, QTimer, Signal, Slot

from studio.errors import StudioError
from studio.train import (
    BatchEnded, CheckpointSaved, EpochEnded, RunFailed, RunFinished, RunStarted, Trainer,
)
from studio.train.config import TrainConfig
from studio.train.project_run import data_for, models_for, optimiser_settings


class _TrainThread(QThread):
    """Prepares and runs one `Trainer`; every event goes out through `event`.

    Signals (emitted in this worker thread; connect only to GUI-thread QObject slots):
        event(object): each `studio.train` event.
        not_started(str): the data or the model could not be prepared (a message).
    """

    event = Signal(object)
    not_started = Signal(str)

    def __init__(self, project: dict, training: dict, data: dict, root: Path | None,
                 out_dir: Path, event_interval: float, parent: QObject | None = None):
        super().__init__(parent)
        self._project, self._training, self._data = project, training, data
        self._root, self._out_dir, self._interval = root, out_dir, event_interval
        self._lock = threading.Lock()
        self.trainer: Trainer | None = None
        self._pause = self._stop = False

    def run(self) -> None:  # runs in the worker thread
        try:
            trainer = self._prepare()
        except StudioError as exc:
            self.not_started.emit(str(exc))
            return
        except Exception as exc:  # a bug or a network that does not compile: say so, don't crash
            self.not_started.emit(f"could not prepare the run: {type(exc).__name__}: {exc}")
            return
        with self._lock:
            self.trainer = trainer
            if self._pause:
                trainer.pause()
            stop = self._stop
        if stop:
            self.event.emit(RunFinished(reason="stopped"))
            return
        trainer.run()  # never raises; the last event is RunFinished or RunFailed

    def _prepare(self) -> Trainer:
        from studio.graph import io

        project = io.from_dict(self._project, "<training copy>")
        models = models_for(project, self._training, base=self._root)
        data = data_for(project, self._training, self._data, root=self._root)
        return Trainer(models, data, optimiser_settings(self._training), callback=self.event.emit,
                       out_dir=self._out_dir, event_interval=self._interval)

    # --- control, from the GUI thread -------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._pause = True
            if self.trainer is not None:
                self.trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause = False
            if self.trainer is not None:
                self.trainer.resume()

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            if self.trainer is not None:
                self.trainer.stop()


class TrainingController(QObject):
    """Starts, pauses and stops one background run at a time; lives in the GUI thread.

    Signals (all emitted in the GUI thread):
        run_started(RunStarted), batch_ended(BatchEnded), epoch_ended(EpochEnded),
        checkpoint_saved(CheckpointSaved): the trainer's events.
        run_finished(RunFinished), run_failed(RunFailed): the last event of a run.
        not_started(str): the run never trained (bad settings or data); the message.
        running_changed(bool): a run's thread started or ended.
        paused_changed(bool): pause or resume took effect.
    """

    run_started = Signal(object)
    batch_ended = Signal(object)
    epoch_ended = Signal(object)
    checkpoint_saved = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(object)
    not_started = Signal(str)
    running_changed = Signal(bool)
    paused_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, event_interval: float = 0.05):
        super().__init__(parent)
        self.event_interval = event_interval
        self._thread: _TrainThread | None = None
        self._paused = False
        self.out_dir: Path | None = None
        self.batch_events = 0  # BatchEnded events received in this run (tests, bench)

    # --- state ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether a run's thread is alive (preparing, training, paused or stopping)."""
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def trainer(self) -> Trainer | None:
        """The running trainer, once prepared (for tests and tools; control it through here)."""
        return self._thread.trainer if self._thread is not None else None

    @property
    def class_names(self) -> list[str] | None:
        """The class names of the running data (once prepared), else None."""
        trainer = self.trainer
        return getattr(trainer.data, "class_names", None) if trainer is not None else None

    # --- control ----------------------------------------------------------------------
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
        snapshot = copy.deepcopy(io.to_dict(project))
        thread = _TrainThread(snapshot, copy.deepcopy(training), copy.deepcopy(data), root,
                              out_dir, self.event_interval, self)
        thread.event.connect(self._on_event)
        thread.not_started.connect(self._on_not_started)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._paused, self.out_dir, self.batch_events = thread, False, out_dir, 0
        thread.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        if self._thread is not None and not self._paused:
            self._thread.pause()
            self._paused = True
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self._thread is not None and self._paused:
            self._thread.resume()
            self._paused = False
            self.paused_changed.emit(False)

    def stop(self) -> None:
        """Ask the run to end after its current batch (its last epoch checkpoint stays)."""
        if self._thread is not None:
            self._thread.stop()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Wait for the run's thread to end, keeping the GUI painting; True when it ended.

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
        elif isinstance(event, CheckpointSaved):
            self.checkpoint_saved.emit(event)
        elif isinstance(event, RunStarted):
            self.run_started.emit(event)
        elif isinstance(event, RunFinished):
            self.run_finished.emit(event)
        elif isinstance(event, RunFailed):
            self.run_failed.emit(event)

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
