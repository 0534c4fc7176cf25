"""The task plots of per-epoch figures, and the base of every task plot (used by `task_views`).

Every view has the same small interface: ``add(run, epoch, metrics)`` takes
an epoch's metrics dict (cheap: it only keeps values), ``refresh()`` draws
what arrived since the last call (the dock calls it for the visible tab, at
most twice a second), ``remove_runs(keep)`` forgets the runs other than
``keep`` and ``apply_palette()`` follows the light or dark theme.

- `CurvesView`: one or more plots of per-epoch figures, one colour per run
  (runs overlay), a line style per figure (solid, dashed, dotted).
- `OtherMetricsView`: the same for any numeric figure no other view shows,
  the figure chosen in a combo box.

`PlotsWidget` is the base of every plot view; the views of the latest
epoch's 2-D points are in `point_plots`, those of attention weights in
`attention_plots`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from studio.ui.training.axes import SteadyAxes, bounds
from studio.ui.training.dashboard import run_colour
from studio.ui.training.plot_look import colour_legend, colour_plot

STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)


@dataclass(frozen=True)
class Curve:
    """One figure of a plot: the first of ``keys`` an epoch holds, drawn as ``label``."""

    label: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Plot:
    """One plot of a `CurvesView`: a title and its curves (solid, dashed, dotted...)."""

    title: str
    curves: tuple[Curve, ...]


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (lists, text, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class PlotsWidget(QWidget):
    """A `pg.GraphicsLayoutWidget` whose plots follow the palette."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(260, 220)
        self.plots: list[pg.PlotItem] = []
        self.dirty = False

    def _plot(self, title: str, row: int = 0, col: int = 0, xlabel: str | None = "epoch") -> pg.PlotItem:
        plot = self.view.addPlot(row=row, col=col, enableMenu=False)  # a menu costs ~7 ms to make
        plot.setTitle(title, size="9pt")
        plot.showGrid(x=True, y=True, alpha=0.15)
        if xlabel:
            plot.setLabel("bottom", xlabel)
        plot.hideButtons()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.enableAutoSIPrefix(False)
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.getAxis("left").setWidth(48)
        self.plots.append(plot)
        return plot

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)

    def colours(self) -> tuple[QColor, QColor, QColor]:
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        sub = QColor(text)
        sub.setAlphaF(0.75)
        return base, text, sub

    def apply_palette(self) -> None:
        base, text, sub = self.colours()
        self.view.setBackground(base)
        for plot in self.plots:
            colour_plot(plot, text, sub)
            if plot.legend is not None:
                colour_legend(plot.legend, base, text)

    def add(self, run: int, epoch: int, metrics: dict[str, Any]) -> None:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def remove_runs(self, keep: int | None) -> None:
        """Forget the runs but ``keep`` (by default a view shows only the latest epoch: nothing to do)."""

    def set_epochs(self, total: int) -> None:
        """The runs shown go up to epoch ``total`` (views with an epoch axis fix it to 0..total)."""


class LatestPlots(PlotsWidget):
    """A view of one metric's newest value only (``key``): `latest` hands it over once after each new one."""

    def __init__(self, key: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.layout_.addWidget(self.view)
        self._latest: tuple[int, int, Any] | None = None

    def wants(self, value: Any) -> bool:
        """Whether a metric value is one this view draws (any, unless a view says otherwise)."""
        return True

    def add(self, run: int, epoch: int, metrics: dict[str, Any]) -> None:
        if self.key in metrics and self.wants(metrics[self.key]):
            self._latest = (run, epoch, metrics[self.key])
            self.dirty = True

    def latest(self) -> tuple[int, int, Any] | None:
        """(run, epoch, value) when a value came since the last call, else None."""
        if not self.dirty or self._latest is None:
            return None
        self.dirty = False
        return self._latest


class _EpochPlots(PlotsWidget):
    """A view whose plots have epochs on x: x spans the whole run, y keeps round ends."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.axes: list[SteadyAxes] = []

    def _epoch_plot(self, title: str, row: int = 0, xlabel: str | None = "epoch") -> pg.PlotItem:
        plot = self._plot(title, row=row, xlabel=xlabel)
        self.axes.append(SteadyAxes(plot, x=False))
        return plot

    def set_epochs(self, total: int) -> None:
        for plot in self.plots:
            plot.enableAutoRange(x=False)
            plot.setXRange(0, max(total, 1), padding=0.02)

    def _fit(self, index: int, ys) -> None:
        """Give plot ``index`` a y range that holds every list of values in ``ys``."""
        self.axes[index].fit(y=bounds(ys))

    def _refit(self) -> None:
        """After runs were removed: the next refresh sets ranges from the points left."""
        for axes in self.axes:
            axes.reset()
        self.dirty = True


class CurvesView(_EpochPlots):
    """Per-epoch figures of every run, in one or more plots side by side (or stacked)."""

    def __init__(self, plots: tuple[Plot, ...], parent: QWidget | None = None):
        super().__init__(parent)
        self.layout_.addWidget(self.view)
        self.specs = plots
        for i, spec in enumerate(plots):  # stacked: the tab pane is tall and narrow
            plot = self._epoch_plot(spec.title, row=i, xlabel="epoch" if i == len(plots) - 1 else None)
            if len(spec.curves) > 1:
                plot.addLegend(offset=(-6, 6), labelTextSize="8pt").setColumnCount(1)
        # run -> (plot index, curve label) -> ([x], [y]); drawn by items keyed (run, plot index, label)
        self.data: dict[int, dict[tuple[int, str], tuple[list[float], list[float]]]] = {}
        self.items: dict[tuple[int, int, str], pg.PlotDataItem] = {}
        self.apply_palette()

    def add(self, run: int, epoch: int, metrics: dict[str, Any]) -> None:
        series = self.data.setdefault(run, {})
        for p, spec in enumerate(self.specs):
            for curve in spec.curves:
                value = next((number(metrics[k]) for k in curve.keys if k in metrics), None)
                if value is not None:
                    xs, ys = series.setdefault((p, curve.label), ([], []))
                    xs.append(float(epoch))
                    ys.append(value)
                    self.dirty = True

    def refresh(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        for run, series in self.data.items():
            for p, (plot, spec) in enumerate(zip(self.plots, self.specs)):
                for style, curve in zip(STYLES * 4, spec.curves):
                    if (p, curve.label) not in series:
                        continue
                    item = self.items.get((run, p, curve.label))
                    if item is None:
                        colour = run_colour(run)
                        name = f"run {run} {curve.label}" if len(spec.curves) > 1 else None
                        item = plot.plot([], [], pen=pg.mkPen(colour, width=1.7, style=style), name=name,
                                         symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=colour)
                        self.items[(run, p, curve.label)] = item
                    xs, ys = series[(p, curve.label)]
                    item.setData(np.asarray(xs), np.asarray(ys))
        for p, spec in enumerate(self.specs):
            self._fit(p, (s[(p, c.label)][1] for s in self.data.values() for c in spec.curves
                          if (p, c.label) in s))

    def points(self, run: int, label: str, plot: int = 0) -> tuple[list[float], list[float]]:
        """The points drawn now for figure ``label`` of plot ``plot`` (0: the first) of run ``run``."""
        item = self.items.get((run, plot, label))
        if item is None or item.xData is None:
            return [], []
        return list(item.xData), list(item.yData)

    def remove_runs(self, keep: int | None) -> None:
        for run in [r for r in self.data if r != keep]:
            del self.data[run]
        for (run, p, label), item in list(self.items.items()):
            if run != keep:
                for plot in self.plots:
                    if item in plot.listDataItems():
                        if plot.legend is not None:
                            plot.legend.removeItem(item)
                        plot.removeItem(item)
                del self.items[(run, p, label)]
        self._refit()


class OtherMetricsView(_EpochPlots):
    """Any numeric figure no other view shows; a combo box picks which one is drawn."""

    def __init__(self, shown_elsewhere: frozenset[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.shown_elsewhere = shown_elsewhere
        row = QHBoxLayout()
        row.setContentsMargins(6, 4, 6, 0)
        row.addWidget(QLabel("Figure:"))
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.currentTextChanged.connect(self._chosen)
        row.addWidget(self.combo)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.view)
        self.plot = self._epoch_plot("")
        self.data: dict[int, dict[str, tuple[list[float], list[float]]]] = {}
        self.items: dict[int, pg.PlotDataItem] = {}
        self.apply_palette()

    @staticmethod
    def keys_of(metrics: dict[str, Any], shown_elsewhere: frozenset[str]) -> list[str]:
        """The numeric keys of ``metrics`` that no other view shows."""
        return [k for k, v in metrics.items() if k not in shown_elsewhere and number(v) is not None]

    def add(self, run: int, epoch: int, metrics: dict[str, Any]) -> None:
        series = self.data.setdefault(run, {})
        for key in self.keys_of(metrics, self.shown_elsewhere):
            xs, ys = series.setdefault(key, ([], []))
            xs.append(float(epoch))
            ys.append(number(metrics[key]))
            if self.combo.findText(key) < 0:
                self.combo.addItem(key)  # the first one becomes current
            self.dirty = True

    @property
    def keys(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    @Slot(str)
    def _chosen(self, key: str) -> None:
        self.plot.setTitle(key, size="9pt", color=self.colours()[1].name())
        self.axes[0].reset()  # another figure, another scale
        self.dirty = True
        self.refresh()

    def refresh(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        key = self.combo.currentText()
        for run, series in self.data.items():
            item = self.items.get(run)
            if item is None:
                colour = run_colour(run)
                item = self.plot.plot([], [], pen=pg.mkPen(colour, width=1.7), symbol="o", symbolSize=5,
                                      symbolBrush=colour, symbolPen=colour)
                self.items[run] = item
            xs, ys = series.get(key, ([], []))
            item.setData(np.asarray(xs), np.asarray(ys))
        self._fit(0, (series.get(key, ((), ()))[1] for series in self.data.values()))

    def points(self, run: int) -> tuple[list[float], list[float]]:
        item = self.items.get(run)
        if item is None or item.xData is None:
            return [], []
        return list(item.xData), list(item.yData)

    def remove_runs(self, keep: int | None) -> None:
        for run in [r for r in self.data if r != keep]:
            del self.data[run]
            item = self.items.pop(run, None)
            if item is not None:
                self.plot.removeItem(item)
        self._refit()
