"""`ExplainView`: the dock's "Explain" tab: a confusion-matrix cell's samples and where the network looked.

Clicking a cell of the confusion matrix (`ConfusionView.cell_clicked`) hands
the view the run's weights (`set_source`) and the cell (`show_cell`): the
validation samples of that true class predicted as that class appear as
thumbnails; clicking one shows its explanation (`studio.train.explain`,
Captum) overlaid on it, by the method and, for Grad-CAM, the convolution node
chosen above. The trained network and its data are loaded once per weights
file. The work is short for the networks this dock trains on the CPU
(milliseconds a sample for LeNet-5) and runs in the GUI thread, under a
busy cursor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSizePolicy, QVBoxLayout, QWidget,
)

from studio.errors import StudioError
from studio.ui.training.samples import to_pixmap

METHOD_LABELS = (("Grad-CAM", "gradcam"), ("Saliency", "saliency"), ("Integrated gradients", "integrated_gradients"))
THUMB = 56


def _pil_pixmap(picture: Any) -> QPixmap:
    data = picture.convert("RGB").tobytes()
    image = QImage(data, picture.width, picture.height, 3 * picture.width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


class ExplainView(QWidget):
    """A confusion cell's validation samples and the explanation of the one clicked."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._source: tuple | None = None
        self.explainer = None
        self.cell: tuple[int, int] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("Click a cell of the confusion matrix to see its samples.")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.samples = QListWidget()
        self.samples.setViewMode(QListWidget.ViewMode.IconMode)
        self.samples.setIconSize(QSize(THUMB, THUMB))
        self.samples.setFlow(QListWidget.Flow.LeftToRight)
        self.samples.setWrapping(False)
        self.samples.setMovement(QListWidget.Movement.Static)
        self.samples.setFixedHeight(THUMB + 2 * self.fontMetrics().height() + 16)
        self.samples.currentRowChanged.connect(self._explain_current)
        layout.addWidget(self.samples)
        row = QHBoxLayout()
        self.method = QComboBox()
        for label, name in METHOD_LABELS:
            self.method.addItem(label, name)
        self.node = QComboBox()
        self.node.setMinimumContentsLength(8)
        row.addWidget(QLabel("Method"))
        row.addWidget(self.method, 1)
        row.addWidget(QLabel("at"))
        row.addWidget(self.node, 1)
        layout.addLayout(row)
        self.method.currentIndexChanged.connect(self._explain_current)
        self.node.currentIndexChanged.connect(self._explain_current)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture.setMinimumSize(160, 160)
        layout.addWidget(self.picture, 1)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.caption)
        self.explanation = None

    def set_source(self, project: Any, weights: str | Path, root: Path | None) -> None:
        """Explain ``project``'s network with ``weights``; the network and data load on the next `show_cell`."""
        path = Path(weights)
        source = (id(project), str(path), path.stat().st_mtime if path.exists() else 0, str(root))
        if source != self._source:
            self._source, self._args, self.explainer = source, (project, path, root), None

    def show_cell(self, true: int, pred: int, names: list[str] | None = None) -> bool:
        """List the validation samples of class ``true`` predicted as ``pred``; False (and why, shown) on failure."""
        self.cell = (true, pred)
        self.samples.clear()
        self.picture.clear()
        self.caption.clear()
        try:
            with _busy():
                explainer = self._explainer()
                indices = explainer.cell_samples(true, pred)
        except StudioError as exc:
            self.title.setText(f"Cannot explain: {exc}")
            return False
        self._names = list(names or [])
        label = self._label
        self.title.setText(f"True {label(true)}, predicted {label(pred)}: {len(indices)} validation sample(s)"
                           + (" — click one to see where the network looked." if indices else "."))
        for i in indices:
            item = QListWidgetItem(QIcon(to_pixmap(explainer.image(i)).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)), f"#{i}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.samples.addItem(item)
        return True

    def _label(self, c: int) -> str:
        return self._names[c] if c < len(getattr(self, "_names", [])) else str(c)

    def _explainer(self):
        if self.explainer is None:
            if self._source is None:
                raise StudioError("no trained weights yet: train the network first")
            from studio.train.explain import Explainer

            self.explainer = Explainer(*self._args)
            self.node.blockSignals(True)
            self.node.clear()
            self.node.addItems(list(self.explainer.convolutions))
            self.node.setCurrentIndex(self.node.count() - 1)  # the last convolution, Grad-CAM's usual choice
            self.node.blockSignals(False)
        return self.explainer

    @Slot()
    def _explain_current(self, *_args) -> None:
        method = self.method.currentData()
        self.node.setEnabled(method == "gradcam")
        item = self.samples.currentItem()
        if item is None or self.explainer is None:
            return
        sample = item.data(Qt.ItemDataRole.UserRole)
        try:
            with _busy():
                result = self.explainer.explain(sample, method, self.node.currentText() or None)
        except StudioError as exc:
            self.explanation = None
            self.picture.clear()
            self.caption.setText(f"Cannot explain: {exc}")
            return
        self.explanation = result
        self.picture.setPixmap(_pil_pixmap(result.picture(side=224)))
        where = f" at {result.node}" if result.node else ""
        self.caption.setText(f"Sample #{sample}: {self.method.currentText()}{where}, explaining the predicted class "
                             f"{self._label(result.pred)} (true {self._label(result.true)}). Red: what weighed most.")

    def clear(self) -> None:
        """Forget the weights and the cell."""
        self._source, self.explainer, self.cell, self.explanation = None, None, None, None
        self.samples.clear()
        self.picture.clear()
        self.caption.clear()
        self.title.setText("Click a cell of the confusion matrix to see its samples.")


class _busy:
    """A wait cursor while the block runs."""

    def __enter__(self):
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *exc):
        QGuiApplication.restoreOverrideCursor()
        return False
