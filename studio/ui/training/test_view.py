"""The Test tab of the training dock: the figures of trained weights on the held-out split.

`EvaluateView` shows what ``studio evaluate`` prints (`studio.train.evaluate`):
a headline (split, samples, accuracy, macro F1, the macro one-vs-rest ROC
AUC; MSE, MAE and R² for regression), a per-class table (precision, recall,
F1, support, AUC) and the ROC and precision-recall curves of every class,
drawn with pyqtgraph (a combo box picks which; each class in the colour of
its square in the table). The dock gives it the weights of a
run (`set_source`) and, after a run of this session, asks for the figures
(`evaluate`); the Evaluate button asks again. Evaluating reads the data and
runs the network, so it happens in a worker thread (`studio.ui.background`)
on a copy of the project; the view only draws the result.

Signals:
    evaluated(dict): the figures now on show.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studio.graph import io
from studio.train.evaluate import Member, evaluate
from studio.ui.background import BackgroundJob
from studio.ui.training.confusion import ClassTable
from studio.ui.training.dashboard import run_colour
from studio.ui.training.task_plots import PlotsWidget

COLUMNS = ("Class", "Precision", "Recall", "F1", "Support", "AUC")
_IDLE = "Train a network (or open a project with a finished run), then press Evaluate."


def _evaluate(project, weights: Path, root: Path | None, members: list[Member], progress) -> dict[str, Any]:
    """The job: the figures of `weights` (runs in the worker thread, on a copy of the project).

    An ensemble's `members` are evaluated too, and their headline figures go under "members".
    """
    progress("evaluating", 0.0)
    result = evaluate([Member(project, weights, root)])
    if len(members) > 1:
        result["members"] = evaluate(members)["members"]
    return result


KINDS = {"ROC curves": ("roc", "fpr", "tpr", "false positive rate", "true positive rate"),
         "Precision-recall curves": ("pr", "recall", "precision", "recall", "precision")}


class CurvePlots(PlotsWidget):
    """The ROC or the precision-recall curves (a combo box picks), one colour per class as in the table."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = QComboBox()
        self.kind.addItems(list(KINDS))
        self.kind.currentTextChanged.connect(self._draw)
        self.plot = self._plot("")
        self.plot.setMouseEnabled(x=False, y=False)
        self.curves: list[dict] = []
        self.layout_.addWidget(self.kind, 0, Qt.AlignmentFlag.AlignLeft)
        self.layout_.addWidget(self.view, 1)
        self.view.setMinimumSize(220, 140)  # shorter than a task plot's: the per-class table above needs rows
        self._draw()

    def show_curves(self, curves: list[dict]) -> None:
        """Draws each class's curves (classes the split lacks have none)."""
        self.curves = curves
        self._draw()

    def clear(self) -> None:
        self.curves = []
        self._draw()

    @Slot()
    def _draw(self) -> None:
        key, x, y, xlabel, ylabel = KINDS[self.kind.currentText()]
        self.plot.clear()
        self.plot.setLabel("bottom", xlabel)
        self.plot.setLabel("left", ylabel)
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.03)
        if key == "roc":  # a classifier that guesses
            _, _, sub = self.colours()
            self.plot.plot([0, 1], [0, 1], pen=pg.mkPen(sub, width=1, style=Qt.PenStyle.DashLine))
        for k, curve in enumerate(self.curves):
            if curve.get(key) is not None:
                self.plot.plot(curve[key][x], curve[key][y], pen=pg.mkPen(class_colour(k), width=1.5))
        self.apply_palette()


def class_colour(k: int) -> QColor:
    """The colour of class `k`'s curves and of its square in the table."""
    return run_colour(k + 1)


class EvaluateView(QWidget):
    """The Test tab (see the module docstring)."""

    evaluated = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self.weights: Path | None = None
        self.root: Path | None = None
        self.members: list[Member] = []
        self.result: dict[str, Any] | None = None
        self.job: BackgroundJob | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.headline = QLabel(_IDLE)
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Compute the figures of these weights on the test split "
                                        "(the validation split when the data has no test split)")
        self.evaluate_button.clicked.connect(self.evaluate)
        header.addWidget(self.headline, 1)
        header.addWidget(self.evaluate_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)
        self.table = FiguresTable()
        self.plots = CurvePlots()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.plots)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([200, 300])
        layout.addWidget(self.splitter, 1)
        self._update()

    @property
    def busy(self) -> bool:
        """Whether figures are being computed."""
        return self.job is not None and self.job.running

    def set_source(self, project, weights: str | Path | None, root: Path | None,
                   members: list[Member] | None = None) -> None:
        """The weights the Evaluate button evaluates (None: nothing to evaluate); clears old figures.

        `members`: an ensemble's members, evaluated beside it (`studio.ui.training.ensemble_runs`).
        """
        self.project, self.root, self.members = project, root, list(members or [])
        self.weights = Path(weights) if weights else None
        self.result = None
        self.table.setRowCount(0)
        self.plots.clear()
        self._update()

    @Slot()
    def evaluate(self) -> bool:
        """Starts computing the figures in a worker thread; False when there is nothing to do or it runs."""
        if self.project is None or self.weights is None or self.busy:
            return False
        copy = io.from_dict(io.to_dict(self.project), "the project")  # the worker never shares the document
        members = [Member(io.from_dict(io.to_dict(m.project), "a member"), m.weights, m.root) for m in self.members]
        self.job = BackgroundJob(partial(_evaluate, copy, self.weights, self.root, members), self)
        self.job.thread.finished.connect(self._job_ended)  # queued: after the job has marked itself ended
        self.job.start()
        self._update()
        return True

    def wait(self) -> None:
        """Blocks until a running evaluation has ended (its result is then delivered by the event loop)."""
        if self.job is not None:
            self.job.wait()

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        pass  # one step: the headline already says "evaluating"

    @Slot(object)
    def job_done(self, result: dict[str, Any]) -> None:
        self.show_result(result)

    @Slot(str)
    def job_failed(self, message: str) -> None:
        self.headline.setText(f"Could not evaluate {self._source()}: {message}")

    @Slot()
    def _job_ended(self) -> None:
        self._update()

    def show_result(self, result: dict[str, Any]) -> None:
        """Draws figures as `studio.train.evaluate.evaluate` returns them."""
        self.result = result
        self.headline.setText(headline_text(result, self._source()))
        classify = _per_class(result)
        self.table.setVisible(classify)
        self.plots.setVisible(classify)
        if classify:
            self.table.show_figures(result["per_class"])
            self.plots.show_curves(result["curves"])
        self.evaluated.emit(result)

    def _source(self) -> str:
        return f"{self.weights.parent.name}/{self.weights.name}" if self.weights is not None else "the weights"

    def _update(self) -> None:
        self.evaluate_button.setEnabled(self.weights is not None and not self.busy)
        if self.busy:
            self.headline.setText(f"Evaluating {self._source()}…")
        elif self.result is None and not self.headline.text().startswith("Could not"):
            self.headline.setText(f"Weights: {self._source()}. Press Evaluate for the test figures."
                                  if self.weights is not None else _IDLE)


def headline_text(result: dict[str, Any], source: str) -> str:
    """One or two lines: which weights, which split, the main figures."""
    where = f"{source} on the {result['split']} split ({result['samples']} samples)"
    if _per_class(result):
        auc = result.get("roc_auc")
        figures = f"<b>Accuracy {result['accuracy']:.4f}</b> · macro F1 {result['macro_f1']:.4f}"
        return figures + (f" · AUC {auc:.4f}" if auc is not None else "") + f"<br>{where}" + _members(result)
    figures = " · ".join(f"{k.upper() if k != 'r2' else 'R²'} {v:.4g}" for k, v in result.items()
                         if isinstance(v, float))
    return f"<b>{figures}</b><br>{where}"


class FiguresTable(ClassTable):
    """The per-class figures of an evaluation; each class's square has the colour of its curves."""

    COLUMNS = COLUMNS

    def show_figures(self, per_class: list[dict[str, Any]]) -> None:
        self.setRowCount(len(per_class))
        for row, c in enumerate(per_class):
            cells = [c["name"], *(f"{c[k]:.3f}" for k in ("precision", "recall", "f1")), str(c["support"]),
                     f"{c['roc_auc']:.3f}" if c["roc_auc"] is not None else "–"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setIcon(_swatch(class_colour(row)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter
                                      | (Qt.AlignmentFlag.AlignLeft if col == 0 else Qt.AlignmentFlag.AlignRight))
                self.setItem(row, col, item)


def _members(result: dict[str, Any]) -> str:
    """An ensemble's members' accuracies, one line (empty for a single network)."""
    members = result.get("members") or []
    return ("<br>Members: " + " · ".join(f"{Path(m['weights']).parent.name} {m['accuracy']:.4f}" for m in members)
            if members and all("accuracy" in m for m in members) else "")


def _swatch(colour: QColor) -> QIcon:
    pixmap = QPixmap(10, 10)
    pixmap.fill(colour)
    return QIcon(pixmap)


def _per_class(result: dict[str, Any]) -> bool:
    """True for a classifier's figures (a recipe's own figures, a language model's say, have none per class)."""
    return result.get("task") == "classification" and "per_class" in result
