"""Running one slow, Qt-free job (an export, an import) in a worker thread.

`BackgroundJob(fn, receiver)` runs ``fn(progress)`` in a fresh `QThread`;
``progress(step, fraction)`` may be called from the job. The worker's
signals are connected to `@Slot` methods of `receiver`, a QObject living in
the GUI thread, so they arrive there queued (never connect a worker signal
to a lambda: it would run in the worker thread, see docs/architecture.md):

    receiver.job_progress(str step, float fraction)
    receiver.job_done(object result)        what fn returned
    receiver.job_failed(str message)        a StudioError's message, or "Type: text" for anything else

The job cannot be cancelled (the export API has no cancel); `wait()` blocks
until it has finished and the thread is gone (its result still arrives
through the event loop afterwards), and `running` says whether it
still runs. The thread is quit, joined and deleted when the job ends; the
worker object goes back to the GUI thread before its last signal and is
deleted there (a Python QObject deleted in another thread can deadlock
against the GUI thread, docs/architecture.md "Known facts").
"""

from __future__ import annotations

import traceback
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from studio.errors import StudioError


class _Worker(QObject):
    progress = Signal(str, float)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn

    @Slot()
    def run(self) -> None:
        try:
            signal, value = self.done, self.fn(self._progress)
        except StudioError as e:
            signal, value = self.failed, str(e)
        except Exception as e:  # an unexpected failure: say what it was rather than vanish
            traceback.print_exc()
            signal, value = self.failed, f"{type(e).__name__}: {e}"
        # Back to the GUI thread before the last signal, so it is deleted there: deleted in the worker
        # thread, ~QObject held a Qt connection lock while shiboken waited for the GIL, which the GUI
        # thread held while it waited for that lock to connect a signal (a deadlock, seen in CI).
        self.moveToThread(QCoreApplication.instance().thread())
        signal.emit(value)

    def _progress(self, step: str, fraction: float) -> None:
        self.progress.emit(str(step), float(fraction))


class BackgroundJob(QObject):
    """One job in its own thread (see the module docstring)."""

    def __init__(self, fn: Callable, receiver: QObject):
        super().__init__(receiver)
        self.thread = QThread()
        self.worker = _Worker(fn)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.progress.connect(receiver.job_progress)
        self.worker.done.connect(receiver.job_done)
        self.worker.failed.connect(receiver.job_failed)
        # ending: the worker's last signal stops the thread's loop at once, from the worker thread
        # (QThread.quit is thread-safe; queued to the GUI thread it would never run while `wait`
        # blocks there); this object (GUI thread) joins the thread
        self.worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.worker.failed.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self.worker.deleteLater)  # in the GUI thread: `_Worker.run` moved it there
        self.thread.finished.connect(self._finished)
        self.running = False

    def start(self) -> None:
        """Starts the job."""
        self.running = True
        self.thread.start()

    @Slot()
    def _finished(self) -> None:
        self.running = False
        self.thread.wait()
        self.worker = None

    def wait(self) -> None:
        """Blocks until the job has finished (used when the window closes)."""
        if self.running:
            self.thread.wait()
            self.running = False
