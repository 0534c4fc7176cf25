"""The task plots of 2-D points from the latest epoch (used by `task_views`).

- `ScatterView`: generated 2-D points (``samples_xy``).
- `WordMapView`: words at 2-D positions (``embedding_2d``).

Both are `task_plots.LatestPlots`; each redraws the newest
epoch's points only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from studio.ui.training.dashboard import run_colour
from studio.ui.training.task_plots import LatestPlots


class ScatterView(LatestPlots):
    """The generated 2-D points (``samples_xy``) of the latest epoch, redrawn each epoch."""

    def __init__(self, key: str = "samples_xy", parent: QWidget | None = None):
        super().__init__(key, parent)
        self.plot = self._plot("Generated points", xlabel=None)
        self.plot.setAspectLocked(True)
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.plot.addItem(self.scatter)
        self.xy = np.zeros((0, 2))
        self.apply_palette()

    def refresh(self) -> None:
        latest = self.latest()
        if latest is None:
            return
        run, epoch, points = latest
        xy = np.asarray(points, dtype=float).reshape(-1, 2)
        self.xy = xy[np.isfinite(xy).all(axis=1)]
        colour = QColor(run_colour(run))
        colour.setAlphaF(0.6)
        self.scatter.setData(pos=self.xy, brush=pg.mkBrush(colour))
        self.plot.setTitle(f"{len(self.xy)} points · run {run} · epoch {epoch}", size="9pt",
                           color=self.colours()[1].name())


class WordMapView(LatestPlots):
    """Words placed at their 2-D positions (``embedding_2d``: ``{"words": [...], "xy": [...]}``)."""

    def __init__(self, key: str = "embedding_2d", parent: QWidget | None = None):
        super().__init__(key, parent)
        self.plot = self._plot("Word vectors in 2-D", xlabel=None)
        self.scatter = pg.ScatterPlotItem(size=6, pen=None)
        self.plot.addItem(self.scatter)
        self.labels: list[pg.TextItem] = []
        self.words: list[str] = []
        self.xy = np.zeros((0, 2))
        self.apply_palette()

    def wants(self, value: Any) -> bool:
        return isinstance(value, dict)

    def refresh(self) -> None:
        latest = self.latest()
        if latest is None:
            return
        run, epoch, data = latest
        words = [str(w) for w in data.get("words", [])]
        xy = np.asarray(data.get("xy", []), dtype=float).reshape(-1, 2)
        n = min(len(words), len(xy))
        self.words, self.xy = words[:n], xy[:n]
        _, text, _ = self.colours()
        colour = QColor(run_colour(run))
        self.scatter.setData(pos=self.xy, brush=pg.mkBrush(colour))
        while len(self.labels) < n:
            label = pg.TextItem("", anchor=(0, 1), color=text)
            self.plot.addItem(label)
            self.labels.append(label)
        while len(self.labels) > n:
            self.plot.removeItem(self.labels.pop())
        for label, word, (x, y) in zip(self.labels, self.words, self.xy):
            label.setText(word)
            label.setColor(text)
            label.setPos(x, y)
        if n:  # room for the words right of and above their points
            (x0, y0), (x1, y1) = self.xy.min(axis=0), self.xy.max(axis=0)
            self.plot.setRange(xRange=(x0, x1 + 0.25 * (x1 - x0 or 1)), yRange=(y0, y1 + 0.08 * (y1 - y0 or 1)))
        self.plot.setTitle(f"Words in 2-D · run {run} · epoch {epoch}", size="9pt", color=text.name())

    def apply_palette(self) -> None:
        super().apply_palette()
        for label in getattr(self, "labels", []):
            label.setColor(self.colours()[1])

