"""The learning-rate finder dialog: the range test run off the GUI thread, loss against lr, and "Use this rate".

`LrFinderDialog` runs `studio.train.lr_find.find_lr` on a snapshot of the
project in a worker thread (`BackgroundJob`) with a progress bar, then plots
the smoothed loss against the learning rate (log x, pyqtgraph) with the
suggested rate marked. "Use this rate" hands the rate to `use(lr)` (the
training panel writes it as one undoable edit) and closes the dialog.
Closing while the test runs waits for it to end (a training step cannot be
stopped half-way).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QProgressBar, QSpinBox, QVBoxLayout

from studio.graph import io
from studio.train.lr_find import STEPS, find_lr
from studio.ui.background import BackgroundJob


class LrFinderDialog(QDialog):
    """Runs the range test for `project` (data relative to `root`); `use(lr)` takes the chosen rate."""

    def __init__(self, project, root: Path | None, use: Callable[[float], None], parent=None,
                 steps: int | None = None):
        super().__init__(parent)
        self.setWindowTitle("Find a learning rate")
        self.resize(560, 420)
        self.state, self.root, self.use = io.to_dict(project), root, use
        self.result = None
        self.job: BackgroundJob | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Steps"))
        self.steps = QSpinBox()
        self.steps.setRange(10, 10_000)
        self.steps.setValue(steps or STEPS)
        self.steps.setToolTip("training steps over which the rate grows from 1e-7 to 10 (a setting of the test)")
        top.addWidget(self.steps)
        self.progress = QProgressBar()
        top.addWidget(self.progress, 1)
        layout.addLayout(top)
        self.plot = pg.PlotWidget()
        self.plot.setLogMode(x=True, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        layout.addWidget(self.plot, 1)
        self.message = QLabel("Each step trains on one batch at a higher rate; "
                              "the loss falls fastest near a good rate.")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton("Run again", QDialogButtonBox.ButtonRole.ActionRole)
        self.use_button = self.buttons.addButton("Use this rate", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.use_button.setEnabled(False)
        self.run_button.clicked.connect(self.start)
        self.use_button.clicked.connect(self._use)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._colour()

    def _colour(self) -> None:
        pal = self.palette()
        self.plot.setBackground(pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        for name, label in (("left", "loss (smoothed)"), ("bottom", "learning rate")):
            self.plot.getAxis(name).setTextPen(pg.mkPen(text))
            self.plot.getAxis(name).setPen(pg.mkPen(pal.color(QPalette.ColorRole.Mid)))
            self.plot.setLabel(name, label, color=text.name())

    @Slot()
    def start(self) -> None:
        """Runs the range test in a worker thread."""
        if self.job is not None and self.job.running:
            return
        state, root, steps = self.state, self.root, self.steps.value()
        self.run_button.setEnabled(False)
        self.use_button.setEnabled(False)
        self.progress.setValue(0)
        self.message.setText("Running the range test…")
        self.job = BackgroundJob(
            lambda progress: find_lr(io.from_dict(state, "<lr-find copy>"), root=root, steps=steps, progress=progress),
            self)
        self.job.start()

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))

    @Slot(object)
    def job_done(self, result) -> None:
        self.result = result
        self.run_button.setEnabled(True)
        self.use_button.setEnabled(True)
        self.progress.setValue(100)
        self.plot.clear()
        pal = self.palette()
        self.plot.plot(result.lrs, result.losses, pen=pg.mkPen(pal.color(QPalette.ColorRole.Highlight), width=2))
        self.plot.addItem(pg.InfiniteLine(math.log10(result.suggested_lr), angle=90,
                                          pen=pg.mkPen(pal.color(QPalette.ColorRole.Text), style=Qt.PenStyle.DashLine)))
        self.message.setText(f"Suggested rate: <b>{result.suggested_lr:.3g}</b> (steepest descent of the loss; "
                             f"the minimum / 10 is {result.min_over_ten:.3g}), over {len(result.lrs)} steps.")

    @Slot(str)
    def job_failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.message.setText(message)

    def _use(self) -> None:
        if self.result is not None:
            self.use(float(f"{self.result.suggested_lr:.3g}"))
        self.accept()

    def done(self, code: int) -> None:
        if self.job is not None:
            self.job.wait()
        super().done(code)
