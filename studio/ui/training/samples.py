"""`SamplesGrid`: thumbnails of validation samples with their predicted and true labels.

Fed with an epoch's ``samples`` list (``{"image": C×H×W nested lists in
[0, 1], "pred", "true", "pred_name", "true_name"}``); a wrong prediction gets
a red frame and red text. It paints the tiles itself and flows them into as
many columns as fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

IMAGE = 64  # thumbnail side in pixels
PAD = 8


def to_pixmap(image: Any) -> QPixmap:
    """A pixmap from a C×H×W image (1, 3 or 4 channels, values in [0, 1])."""
    a = np.asarray(image, dtype=np.float32)
    a = np.clip(a, 0.0, 1.0)
    a = (a * 255 + 0.5).astype(np.uint8)
    c, h, w = a.shape
    if c == 1:
        data = np.ascontiguousarray(a[0])
        img = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8)
    elif c == 3:
        data = np.ascontiguousarray(a.transpose(1, 2, 0))
        img = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        data = np.ascontiguousarray(a[:4].transpose(1, 2, 0))
        img = QImage(data.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(img.copy())  # copy: `data` goes away


class SamplesGrid(QWidget):
    """The sample predictions of the latest epoch."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.samples: list[dict[str, Any]] = []
        self.pixmaps: list[QPixmap] = []
        self.epoch = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_samples(self, samples: list[dict[str, Any]], epoch: int) -> None:
        self.samples, self.epoch = list(samples), epoch
        self.pixmaps = [to_pixmap(s["image"]) for s in self.samples]
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self.samples, self.pixmaps = [], []
        self.update()

    @property
    def wrong(self) -> list[int]:
        """Indices of the samples predicted wrongly."""
        return [i for i, s in enumerate(self.samples) if "pred" in s and s.get("pred") != s.get("true")]

    def _tile(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(max(IMAGE, self.fontMetrics().horizontalAdvance("pred 00000")) + 8,
                     IMAGE + 2 * line + 10)

    def sizeHint(self) -> QSize:
        tile = self._tile()
        return QSize(4 * (tile.width() + PAD) + PAD, 2 * (tile.height() + PAD) + 2 * PAD + 20)

    def minimumSizeHint(self) -> QSize:
        tile = self._tile()
        return QSize(tile.width() + 2 * PAD, tile.height() + 40)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        sub = pal.color(QPalette.ColorRole.PlaceholderText)
        dark = pal.color(QPalette.ColorRole.Window).lightness() < 128
        red = QColor("#ff6b5e" if dark else "#d93025")
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        fm = self.fontMetrics()
        line = fm.height()
        if not self.samples:
            p.setPen(sub)
            p.drawText(self.rect().adjusted(PAD, PAD, -PAD, -PAD),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "Sample predictions appear here after each epoch (for image inputs).")
            p.end()
            return
        p.setPen(text)
        wrong = len(self.wrong)
        p.drawText(QRect(PAD, 4, self.width() - 2 * PAD, line + 4), Qt.AlignmentFlag.AlignVCenter,
                   f"Validation samples, epoch {self.epoch}: {len(self.samples) - wrong} right, {wrong} wrong")
        tile = self._tile()
        cols = max(1, (self.width() - PAD) // (tile.width() + PAD))
        top = line + 12
        for i, (sample, pixmap) in enumerate(zip(self.samples, self.pixmaps)):
            x = PAD + (i % cols) * (tile.width() + PAD)
            y = top + (i // cols) * (tile.height() + PAD)
            self._paint_sample(p, sample, pixmap, QRect(QPoint(x, y), tile), (text, sub, red))
        p.end()

    def _paint_sample(self, p: QPainter, sample: dict, pixmap: QPixmap, cell: QRect,
                      colours: tuple[QColor, QColor, QColor]) -> None:
        """One sample in ``cell``: its image (framed red when predicted wrong) over its predicted and true class."""
        text, sub, red = colours
        line = self.fontMetrics().height()
        x, y = cell.x(), cell.y()
        is_wrong = "pred" in sample and sample.get("pred") != sample.get("true")
        image = QRect(x + (cell.width() - IMAGE) // 2, y, IMAGE, IMAGE)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawPixmap(image, pixmap)
        p.setPen(QPen(red if is_wrong else sub, 3 if is_wrong else 1))
        p.drawRect(image.adjusted(-1, -1, 0, 0))
        if "pred" not in sample:
            return
        pred = sample.get("pred_name", sample.get("pred"))
        true = sample.get("true_name", sample.get("true"))
        p.setPen(red if is_wrong else text)
        p.drawText(QRect(x, y + IMAGE + 4, cell.width(), line), Qt.AlignmentFlag.AlignHCenter,
                   f"pred {pred}")
        p.setPen(red if is_wrong else sub)
        p.drawText(QRect(x, y + IMAGE + 4 + line, cell.width(), line), Qt.AlignmentFlag.AlignHCenter,
                   f"true {true}")
