"""A BackgroundJob's worker ends its life in the GUI thread (`studio.ui.background`)."""

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Slot

from studio.errors import StudioError
from studio.ui.background import BackgroundJob


class Receiver(QObject):
    """What a dialog is to a job: its slots, in the GUI thread."""

    def __init__(self):
        super().__init__()
        self.job = None
        self.results = []
        self.worker_threads = []

    @Slot(str, float)
    def job_progress(self, step, fraction):
        pass

    @Slot(object)
    def job_done(self, result):
        self.results.append(result)
        self.worker_threads.append(self.job.worker.thread())

    @Slot(str)
    def job_failed(self, message):
        self.job_done(message)


def _fails(progress):
    raise StudioError("no room")


@pytest.mark.parametrize("fn,result", [(lambda progress: 42, 42), (_fails, "no room")])
def test_the_worker_is_back_in_the_gui_thread_when_it_reports_and_is_deleted_there(qtbot, qapp, fn, result):
    """Deleted in the worker thread, it could deadlock against the GUI thread (docs/architecture.md)."""
    receiver = Receiver()
    receiver.job = BackgroundJob(fn, receiver)
    worker = receiver.job.worker
    receiver.job.start()
    qtbot.waitUntil(lambda: bool(receiver.results), timeout=10_000)
    assert receiver.results == [result]
    assert receiver.worker_threads == [qapp.thread()]
    qtbot.waitUntil(lambda: not receiver.job.running, timeout=10_000)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(worker)
