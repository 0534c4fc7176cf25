"""`JobDialog`: a dialog that runs one slow job in the background and shows how it went.

The export and import dialogs share it: while the job runs the dialog cannot
be closed (a job cannot stop half-way), a failure shows the job's message in
the outcome box under a title of the dialog's own ("Export failed."), and
`wait` blocks until a running job ends (the main window calls it on closing).
Subclasses build `outcome` (a rich-text QLabel inside `outcome_box`) and,
for the job's steps, `progress` (a QProgressBar) and `step` (a QLabel), start
`job`, and set `failure_title`.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QDialog

from studio.ui import theme
from studio.ui.background import BackgroundJob


class JobDialog(QDialog):
    """The running/failed/closing part of a dialog that runs a `BackgroundJob`."""

    failure_title = "Failed."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job: BackgroundJob | None = None
        self.error: str | None = None

    @property
    def running(self) -> bool:
        """True while the job runs."""
        return self.job is not None and self.job.running

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        """Shows the job's step in `step` and how far it is in `progress` (a dialog without them overrides this)."""
        self.progress.setValue(round(100 * fraction))
        self.step.setText(f"{step}…" if fraction < 1 else step)

    @Slot(str)
    def job_failed(self, message: str) -> None:
        self.error = message
        self._set_busy(False)  # each dialog enables and disables its own controls
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.show_outcome(f"<b style='color:{theme.current().error.name()}'>{self.failure_title}</b><br>{html(message)}")

    def show_outcome(self, text: str) -> None:
        """Shows rich `text` in the outcome box and fits the dialog's height to it."""
        self.outcome.setText(text)
        self.outcome_box.show()
        fit_height(self)

    def wait(self) -> None:
        """Blocks until a running job ends."""
        if self.job is not None:
            self.job.wait()

    def reject(self) -> None:
        if self.running:  # no way to stop half-way; the Close button is disabled meanwhile
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self.running:
            event.ignore()
            return
        super().closeEvent(event)


def fit_height(dialog: QDialog) -> None:
    """Resizes `dialog` to the height its contents need at its current width (wrapped text included)."""
    layout = dialog.layout()
    w = dialog.width()
    h = layout.totalHeightForWidth(w) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
    dialog.resize(w, max(h, layout.totalMinimumSize().height()))


def html(value) -> str:
    """`value` as text safe inside rich text."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
