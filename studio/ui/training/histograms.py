"""`LayerStatsView`: the dock's "Layers" tab, fed by the run's `LayersMeasured` events.

Top, the gradient norm over the run's steps (all layers together, and the
chosen layer), on a log scale, with the vanishing (`VANISHING`) and exploding
(`EXPLODING`) thresholds as dashed lines. Below, for the layer chosen in the
list, histograms of its weights, gradients and outputs at the latest
measurement. A line names the layers whose gradients vanish or explode now
(the canvas marks their nodes too) and, on a GPU, the memory allocated and
its peak. Drawing waits until the tab is shown (`refresh`).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.train.events import LayersMeasured
from studio.train.layer_stats import BINS, EXPLODING, VANISHING
from studio.ui.training.plot_look import colour_plot, legend_text

KINDS = (("weights", "Weights"), ("grads", "Gradients"), ("activations", "Outputs"))
_FLOOR = 1e-12  # a zero norm drawn on the log axis


class LayerStatsView(QWidget):
    """Gradient norms over the run and per-layer histograms of the latest measurement."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer"))
        self.chooser = QComboBox()
        self.chooser.setMinimumContentsLength(14)
        self.chooser.currentIndexChanged.connect(self._chosen)
        row.addWidget(self.chooser, 1)
        layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(300, 300)
        layout.addWidget(self.view, 1)
        self.norm_plot = self._plot(0, 0, "Gradient norm", colspan=len(KINDS))
        self.norm_plot.setLogMode(y=True)
        self.norm_plot.setLabel("bottom", "step")
        self.hist_plots = {kind: self._plot(1, i, title) for i, (kind, title) in enumerate(KINDS)}
        self.legend = self.norm_plot.addLegend(offset=(-8, 4), labelTextSize="8pt")
        self.total_curve = self.norm_plot.plot([], [], name="all layers")
        self.layer_curve = self.norm_plot.plot([], [], name="this layer")
        self.lines = [pg.InfiniteLine(pos=math.log10(v), angle=0) for v in (VANISHING, EXPLODING)]
        for line in self.lines:
            self.norm_plot.addItem(line)
        self.bars = {kind: pg.PlotDataItem([0, 1], [0], stepMode="center", fillLevel=0) for kind in self.hist_plots}
        for kind, plot in self.hist_plots.items():
            plot.addItem(self.bars[kind])
        self.events: list[LayersMeasured] = []
        self._stale = False
        self.apply_palette()

    def _plot(self, row: int, col: int, title: str, colspan: int = 1) -> pg.PlotItem:
        plot = self.view.addPlot(row=row, col=col, colspan=colspan, enableMenu=False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.setTitle(title, size="9pt")
        plot.getAxis("left").setWidth(44)
        for name in ("left", "bottom"):
            plot.getAxis(name).enableAutoSIPrefix(False)
        return plot

    # --- feeding ----------------------------------------------------------------------
    def add(self, event: LayersMeasured) -> None:
        """Keep ``event``; the layer list follows its layers (drawing waits for `refresh`)."""
        self.events.append(event)
        names = [layer["name"] for layer in event.layers]
        if names != [self.chooser.itemText(i) for i in range(self.chooser.count())]:
            current = self.chooser.currentText()
            self.chooser.blockSignals(True)
            self.chooser.clear()
            self.chooser.addItems(names)
            self.chooser.setCurrentIndex(max(0, names.index(current) if current in names else 0))
            self.chooser.blockSignals(False)
        self._stale = True

    def clear(self) -> None:
        """Forget every measurement."""
        self.events = []
        self.chooser.clear()
        self._stale = True
        self.refresh()

    @Slot(int)
    def _chosen(self, _index: int) -> None:
        self._stale = True
        self.refresh()

    def refresh(self) -> None:
        """Draw the latest measurement, when anything changed since the last drawing."""
        if not self._stale:
            return
        self._stale = False
        name = self.chooser.currentText()
        steps = [e.step for e in self.events]
        self.total_curve.setData(steps, [max(e.grad_norm or 0.0, _FLOOR) for e in self.events])
        self.layer_curve.setData(*self._layer_norms(name))
        latest = self.events[-1] if self.events else None
        layer = next((l for l in latest.layers if l["name"] == name), None) if latest else None
        for kind, plot in self.hist_plots.items():
            self._draw_histogram(kind, (layer or {}).get(kind))
        self.status.setText(self._status(latest))

    def _layer_norms(self, name: str) -> tuple[list[int], list[float]]:
        xs, ys = [], []
        for e in self.events:
            norm = next((l.get("grad_norm") for l in e.layers if l["name"] == name), None)
            if norm is not None:
                xs.append(e.step)
                ys.append(max(norm, _FLOOR) if math.isfinite(norm) else 1e30)
        return xs, ys

    def _draw_histogram(self, kind: str, h: dict | None) -> None:
        if not h or not h["num"]:
            self.bars[kind].setData([0, 1], [0])
            return
        lo, hi = h["min"], h["max"]
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, BINS + 1)
        self.bars[kind].setData(edges, np.asarray(h["counts"], dtype=float))

    def _status(self, e: LayersMeasured | None) -> str:
        if e is None:
            return "No measurement yet: set Histograms every N steps above 0 and train."
        bad = [f"{l['name']} ({l['grad_state']})" for l in e.layers if l.get("grad_state", "ok") != "ok"]
        norm = "n/a" if e.grad_norm is None else f"{e.grad_norm:.3g}"
        text = f"Step {e.step} (epoch {e.epoch}): gradient norm {norm}. "
        text += ("Gradients vanish or explode in: " + ", ".join(bad) + ".") if bad else "No layer's gradients vanish or explode."
        if e.memory:
            text += (f" GPU memory {e.memory['allocated'] / 2**20:,.0f} MiB allocated, "
                     f"peak {e.memory['peak'] / 2**20:,.0f} MiB.")
        return text

    # --- look -------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)

    def apply_palette(self) -> None:
        """Background, axes, titles and curves from the widget's palette."""
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        high = pal.color(QPalette.ColorRole.Highlight)
        sub = QColor(text)
        sub.setAlphaF(0.75)
        self.view.setBackground(base)
        for plot in (self.norm_plot, *self.hist_plots.values()):
            colour_plot(plot, text, sub)
        legend_text(self.legend, text)
        self.legend.setBrush(pg.mkBrush(QColor(base.red(), base.green(), base.blue(), 200)))
        self.total_curve.setPen(pg.mkPen(text, width=1.6))
        self.layer_curve.setPen(pg.mkPen(high, width=1.6))
        warn = QColor("#d9822b")
        for line in self.lines:
            line.setPen(pg.mkPen(warn, width=1, style=Qt.PenStyle.DashLine))
        fill = QColor(high)
        fill.setAlphaF(0.45)
        for bars in self.bars.values():
            bars.setPen(pg.mkPen(high, width=1))
            bars.setBrush(pg.mkBrush(fill))
