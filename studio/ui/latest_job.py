"""`LatestJob`: a slow view refresh that only ever computes the newest request, off the GUI thread.

`request()` (after every edit) restarts a short timer; when it fires,
``make()`` returns the function to run (or None: nothing to do) and it runs
in a `BackgroundJob`. A request made while a job runs starts one more job
once it ends, so a burst of edits costs at most two runs. ``done(result)``
and ``failed(message)`` are called in the GUI thread (this object's slots
receive the worker's signals, see docs/architecture.md).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from studio.ui.background import BackgroundJob


class LatestJob(QObject):
    """Debounced, one at a time, newest request wins (see the module docstring)."""

    def __init__(self, parent: QObject, delay_ms: int, make: Callable[[], Callable | None],
                 done: Callable[[object], None], failed: Callable[[str], None]):
        super().__init__(parent)
        self.make, self.done, self.failed = make, done, failed
        self.job: BackgroundJob | None = None
        self._again = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self._start)

    @property
    def running(self) -> bool:
        """Whether a job runs now."""
        return self.job is not None and self.job.running

    def request(self) -> None:
        """Runs ``make()``'s function once requests have paused for the delay."""
        self.timer.start()

    def cancel(self) -> None:
        """Forgets a request still waiting for its delay."""
        self.timer.stop()

    @Slot()
    def _start(self) -> None:
        if self.running:
            self._again = True
            return
        work = self.make()
        if work is not None:
            self.job = BackgroundJob(lambda progress: work(), self)
            self.job.start()

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        pass

    @Slot(object)
    def job_done(self, result) -> None:
        self.done(result)
        self._next()

    @Slot(str)
    def job_failed(self, message: str) -> None:
        self.failed(message)
        self._next()

    def _next(self) -> None:
        if self._again:
            self._again = False
            self.timer.start()

    def wait(self) -> None:
        """Blocks until a running job has ended (and drops a waiting request)."""
        self.timer.stop()
        if self.job is not None:
            self.job.wait()
