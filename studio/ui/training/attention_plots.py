"""The task plots of attention weights, as heat maps (used by `task_views`).

- `HeatMapView`: an attention matrix with its tokens on the axes.
- `HeadMapsView`: one small heat map per attention head.

Both are `task_plots.LatestPlots`, draw the newest epoch's
weights only, and colour them from the palette's base to its highlight.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from studio.ui.training.task_plots import LatestPlots

MAX_TOKENS_LABELLED = 40  # past this many tokens an axis shows numbers, not words


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(*(a.getRgbF()[i] * (1 - t) + b.getRgbF()[i] * t for i in range(3)))


def _ticks(tokens: list[str] | None, n: int) -> list[list[tuple[float, str]]] | None:
    if tokens and len(tokens) == n and n <= MAX_TOKENS_LABELLED:
        return [[(i + 0.5, str(t)) for i, t in enumerate(tokens)]]
    return None


def _head_maps(data: Any) -> np.ndarray | None:
    """``attention_maps`` as heads × T × S (one map: 1 × T × S); None when it holds no maps."""
    if isinstance(data, dict):  # {"heads": [...], "tokens": [...], "layer": name} or {"weights": ...}
        data = next((data[k] for k in ("heads", "weights", "maps") if k in data), [])
    try:
        maps = np.asarray(data, dtype=float)
    except ValueError:  # heads of different sizes
        return None
    if maps.ndim == 2:
        maps = maps[None]
    while maps.ndim > 3:
        maps = maps[0]
    if maps.ndim != 3 or maps.size == 0:
        return None
    return maps


class HeatMapView(LatestPlots):
    """Attention weights (rows: target tokens, columns: source tokens) with the tokens on the axes."""

    def __init__(self, key: str = "attention", parent: QWidget | None = None):
        super().__init__(key, parent)
        self.plot = self._plot("Attention", xlabel="source")
        self.plot.setLabel("left", "target")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.weights = np.zeros((0, 0))
        self.apply_palette()

    def refresh(self) -> None:
        latest = self.latest()
        if latest is None:
            return
        run, epoch, data = latest
        data = data if isinstance(data, dict) else {"weights": data}
        w = np.asarray(data.get("weights", []), dtype=float)
        while w.ndim > 2:  # a batch or heads: the first one
            w = w[0]
        if w.ndim != 2 or w.size == 0:
            return
        self.weights = w
        rows, cols = w.shape
        top = float(np.nanmax(w)) if np.isfinite(w).any() else 1.0
        self.image.setImage(np.nan_to_num(w), levels=(0.0, max(top, 1e-9)))
        self.image.setRect(0, 0, cols, rows)
        bottom, left = self.plot.getAxis("bottom"), self.plot.getAxis("left")
        bottom.setTicks(_ticks(data.get("source"), cols))
        left.setTicks(_ticks(data.get("target"), rows))
        self.plot.setRange(xRange=(0, cols), yRange=(0, rows), padding=0.01)
        self.plot.setTitle(f"Attention · run {run} · epoch {epoch}", size="9pt", color=self.colours()[1].name())

    def apply_palette(self) -> None:
        super().apply_palette()
        base = self.colours()[0]
        high = self.palette().color(QPalette.ColorRole.Highlight)
        self.image.setLookupTable(pg.ColorMap([0.0, 1.0], [_mix(base, high, 0.04), high]).getLookupTable(nPts=256))


class HeadMapsView(LatestPlots):
    """One small heat map per attention head (``attention_maps``: ``{"heads": heads × T × S, "tokens": [...]}``
    or the bare heads × T × S list)."""

    def __init__(self, key: str = "attention_maps", parent: QWidget | None = None):
        super().__init__(key, parent)
        self.images: list[pg.ImageItem] = []
        self.maps = np.zeros((0, 0, 0))
        self.apply_palette()

    def refresh(self) -> None:
        latest = self.latest()
        if latest is None:
            return
        _, _, data = latest
        tokens = data.get("tokens") if isinstance(data, dict) else None
        maps = _head_maps(data)
        if maps is None:
            return
        self.maps = maps
        if len(self.images) != len(maps):
            self._make_plots(len(maps))
        for plot, image, m in zip(self.plots, self.images, maps):
            image.setImage(np.nan_to_num(m), levels=(0.0, max(float(np.nanmax(m)), 1e-9)))
            image.setRect(0, 0, m.shape[1], m.shape[0])
            plot.setRange(xRange=(0, m.shape[1]), yRange=(0, m.shape[0]), padding=0.01)
            fits = tokens if tokens and len(tokens) <= 16 else None
            plot.getAxis("bottom").setTicks(_ticks(fits, m.shape[1]))
            plot.getAxis("left").setTicks(_ticks(fits, m.shape[0]))

    def _make_plots(self, heads: int) -> None:
        """One plot and image per head, in a square-ish grid."""
        self.view.clear()
        self.plots, self.images = [], []
        cols = math.ceil(math.sqrt(heads))
        for h in range(heads):
            plot = self._plot(f"head {h + 1}", row=h // cols, col=h % cols, xlabel=None)
            plot.invertY(True)
            plot.setMouseEnabled(x=False, y=False)
            plot.showGrid(x=False, y=False)
            plot.getAxis("left").setWidth(24)
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self.images.append(image)
        self.apply_palette()

    def apply_palette(self) -> None:
        super().apply_palette()
        base = self.colours()[0]
        high = self.palette().color(QPalette.ColorRole.Highlight)
        table = pg.ColorMap([0.0, 1.0], [_mix(base, high, 0.04), high]).getLookupTable(nPts=256)
        for image in getattr(self, "images", []):
            image.setLookupTable(table)
