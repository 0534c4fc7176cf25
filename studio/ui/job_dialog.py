"""`JobDialog`: a dialog that runs one slow job in the background and shows how it went.

The export and import dialogs share it: while the job runs the dialog cannot
be closed (a job cannot stop half-way), a failure shows the job's message in
the outcome box under a title of the dialog's own ("Export failed."), and
`wait` blocks until a running job ends (the main window calls it on closing).
Subclasses build `outcome` (a rich-text QLabel inside `outcome_box`) and,
for the job's steps, `progress` (a QProgressBar) and `step` (a QLabel), start
`job`, and set `failure_title`; the parts every such dialog has (its outer
layout, the form, the progress, the outcome box, the row of buttons) are made
by the builders here, so the dialogs look alike.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QDialog, QFormLayout, QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from studio.ui import theme
from studio.ui.background import BackgroundJob


class JobDialog(QDialog):
    """The running/failed/closing part of a dialog that runs a `BackgroundJob`."""

    failure_title = "Failed."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job: BackgroundJob | None = None
        self.error: str | None = None

    # --- the parts every job dialog has ----------------------------------------------------
    def _outer_layout(self) -> QVBoxLayout:
        """The dialog's own layout: its sections from top to bottom."""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 16, 18, 14)
        outer.setSpacing(12)
        return outer

    def _make_progress(self, busy: bool = False, steps: bool = True) -> None:
        """Makes `progress` (a busy indicator when the job reports no steps) and, with ``steps``, the
        `step` label; both hidden until the job runs."""
        self.progress = QProgressBar()
        self.progress.setRange(0, 0 if busy else 100)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.progress.hide()
        if steps:
            self.step = QLabel("")
            self.step.setStyleSheet(f"color: {theme.current().subtext.name()};")
            self.step.hide()

    def _make_outcome(self, margins: tuple[int, int, int, int] | None = (10, 8, 10, 8)) -> QFrame:
        """Makes `outcome`, the rich text of how the job went, in `outcome_box` (hidden until shown);
        ``margins`` None keeps the style's own."""
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome_box = QFrame()
        self.outcome_box.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(self.outcome_box)
        if margins is not None:
            box.setContentsMargins(*margins)
        box.addWidget(self.outcome)
        self.outcome_box.hide()
        return self.outcome_box

    def _job_buttons(self, label: str) -> tuple[QHBoxLayout, QPushButton]:
        """The bottom row, right-aligned: the default button ``label`` (it calls the subclass's `start`) and
        `close_button`; returns the row and the first button."""
        button = QPushButton(label)
        button.setDefault(True)
        button.clicked.connect(self.start)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button)
        row.addWidget(self.close_button)
        return row, button

    # --- running -------------------------------------------------------------------------------
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


def form_layout(spacing: int | None = 8) -> QFormLayout:
    """A form whose fields take the width and whose labels are right-aligned; ``spacing`` between rows
    (None: the style's)."""
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if spacing is not None:
        form.setVerticalSpacing(spacing)
    return form


def fit_height(dialog: QDialog) -> None:
    """Resizes `dialog` to the height its contents need at its current width (wrapped text included)."""
    layout = dialog.layout()
    w = dialog.width()
    h = layout.totalHeightForWidth(w) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
    dialog.resize(w, max(h, layout.totalMinimumSize().height()))


def html(value) -> str:
    """`value` as text safe inside rich text."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
