"""The confusion matrix (pyqtgraph image with counts) and the per-class metrics table.

`ConfusionView.show_matrix(matrix, names, epoch)` draws rows as true classes
and columns as predictions; a cell's colour is its share of the true class
(the row), its text the count. Past `MAX_LABELLED` classes the counts are
left out (they would not fit). Clicking a cell sends ``cell_clicked(true,
predicted)`` (the dock then lists its samples and explains them).
`ClassTable.show_metrics(metrics, names)` lists precision, recall, F1 and
support per class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import QGraphicsItem, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

MAX_LABELLED = 20


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(*(a.getRgbF()[i] * (1 - t) + b.getRgbF()[i] * t for i in range(3)))


class ConfusionView(QWidget):
    """The validation confusion matrix of the latest epoch.

    Signals:
        cell_clicked(int, int): the true and the predicted class of the cell clicked.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(260, 240)
        layout.addWidget(self.view)
        self.plot = self.view.addPlot(enableMenu=False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        for name in ("left", "bottom"):  # axes drawn once, then blitted (see dashboard.py)
            self.plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.counts = CountsItem()
        self.plot.addItem(self.counts)
        self.matrix: np.ndarray | None = None
        self.names: list[str] = []
        self._labelled: list[str] | None = None  # the names the axes show
        self.epoch = 0
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.apply_palette()

    @Slot(object)
    def _clicked(self, event) -> None:
        if self.matrix is None or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.vb.mapSceneToView(event.scenePos())
        col, row, n = int(np.floor(point.x())), int(np.floor(point.y())), self.matrix.shape[0]
        if 0 <= row < n and 0 <= col < n:
            self.cell_clicked.emit(row, col)

    def show_matrix(self, matrix: list[list[int]], names: list[str] | None, epoch: int) -> None:
        """Draw ``matrix`` (rows: true class) with ``names`` on both axes."""
        m = np.asarray(matrix, dtype=float)
        n = m.shape[0]
        self.matrix, self.epoch = m, epoch
        self.names = list(names) if names and len(names) == n else [str(i) for i in range(n)]
        rows = m.sum(axis=1, keepdims=True)
        self.share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
        self.image.setImage(self.share, levels=(0.0, 1.0))
        self.image.setRect(0, 0, n, n)
        if self._labelled != self.names:  # new axes are most of a frame: only when the classes change
            self._labelled = list(self.names)
            ticks = [[(i + 0.5, name) for i, name in enumerate(self.names)]]
            for axis in ("left", "bottom"):
                self.plot.getAxis(axis).setTicks(ticks)
        self._draw_counts()
        self.plot.setTitle(self._title(), size="9pt",
                           color=self.palette().color(QPalette.ColorRole.Text).name())

    def _title(self) -> str:
        return f"Validation, epoch {self.epoch}"  # short: the tab says "Confusion", the pane is narrow

    def _draw_counts(self) -> None:
        m = self.matrix
        shown = m is not None and m.shape[0] <= MAX_LABELLED
        self.counts.set_counts(m if shown else None, self.share if shown else None)

    def clear(self) -> None:
        self.matrix = None
        self.image.clear()
        self._draw_counts()
        self.plot.setTitle("")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)

    def apply_palette(self) -> None:
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        high = pal.color(QPalette.ColorRole.Highlight)
        self.view.setBackground(base)
        cmap = pg.ColorMap([0.0, 1.0], [_mix(base, high, 0.04), high])
        self.image.setLookupTable(cmap.getLookupTable(nPts=256))
        sub = QColor(text)
        sub.setAlphaF(0.8)
        for name, label in (("left", "true"), ("bottom", "predicted")):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(sub))
            axis.setTextPen(pg.mkPen(sub))
            self.plot.setLabel(name, label, color=sub.name())
        title = self._title() if self.matrix is not None else ""
        self.plot.setTitle(title, size="9pt", color=text.name())
        self._colour_counts()

    def _colour_counts(self) -> None:
        """Counts on dark cells in the highlighted-text colour, the rest in the text colour."""
        pal = self.palette()
        self.counts.set_colours(pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.HighlightedText))


class CountsItem(pg.GraphicsObject):
    """The count of every cell of an n×n matrix, centred in the cell, in one item.

    One item that draws all the texts, at a fixed size in pixels whatever the
    zoom: a `pg.TextItem` per cell took ~0.6 ms each to make, 60 ms for ten
    classes, in the GUI thread while a run trains.
    """

    DARK = 0.55  # a cell whose share is above this is dark: its count takes the light colour

    def __init__(self):
        super().__init__()
        self.matrix: np.ndarray | None = None
        self.share: np.ndarray | None = None
        self.colours = (QColor("black"), QColor("white"))

    def set_counts(self, matrix: np.ndarray | None, share: np.ndarray | None) -> None:
        """Show ``matrix`` (None: nothing); ``share`` (same shape, 0..1) picks each count's colour."""
        self.prepareGeometryChange()
        self.matrix, self.share = matrix, share
        self.update()

    def set_colours(self, light_cells: QColor, dark_cells: QColor) -> None:
        self.colours = (QColor(light_cells), QColor(dark_cells))
        self.update()

    def boundingRect(self) -> QRectF:
        n = 0 if self.matrix is None else self.matrix.shape[0]
        return QRectF(0, 0, n, n)

    def paint(self, painter: QPainter, *_) -> None:
        m = self.matrix
        if m is None:
            return
        n = m.shape[0]
        to_device = painter.transform()
        font = QFont(painter.font())
        font.setPointSizeF(7.5 if n > 10 else 8.5)
        painter.resetTransform()  # text at its size in pixels, not scaled with the cells
        painter.setFont(font)
        for i in range(n):
            for j in range(n):
                count = int(m[i, j])
                if not count and i != j:
                    continue
                top_left = to_device.map(QPointF(j, i))
                bottom_right = to_device.map(QPointF(j + 1, i + 1))
                painter.setPen(self.colours[int(self.share[i, j] > self.DARK)])
                painter.drawText(QRectF(top_left, bottom_right).normalized(), Qt.AlignmentFlag.AlignCenter,
                                 str(count))


class ClassTable(QTableWidget):
    """Precision, recall, F1 and support of each class, from an epoch's metrics."""

    COLUMNS = ("Class", "Precision", "Recall", "F1", "Support")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)

    def show_metrics(self, metrics: dict[str, Any], names: list[str] | None) -> None:
        precision = metrics.get("val_precision") or []
        recall = metrics.get("val_recall") or []
        f1 = metrics.get("val_f1") or []
        confusion = metrics.get("val_confusion") or []
        n = max(len(precision), len(recall), len(f1))
        names = list(names) if names and len(names) == n else [str(i) for i in range(n)]
        self.setRowCount(n)
        for i in range(n):
            support = int(sum(confusion[i])) if i < len(confusion) else 0
            cells = [names[i]] + [f"{v[i]:.3f}" if i < len(v) else "" for v in (precision, recall, f1)]
            cells.append(str(support))
            for col, value in enumerate(cells):
                item = self.item(i, col)
                if item is None:
                    item = QTableWidgetItem()
                    align = Qt.AlignmentFlag.AlignVCenter | (
                        Qt.AlignmentFlag.AlignLeft if col == 0 else Qt.AlignmentFlag.AlignRight)
                    item.setTextAlignment(align)
                    self.setItem(i, col, item)
                item.setText(value)

    def clear_rows(self) -> None:
        self.setRowCount(0)
