"""`Dashboard`: live curves of every run in this dock, laid over each other (pyqtgraph).

Four plots share the x axis (epochs; batch points at fractions of an epoch):
loss (training per batch event, validation per epoch, dashed), the task's
validation metric (accuracy in %, or R² and MAE for regression; hidden after
an epoch without either, the loss plot then twice as wide), the learning
rate and samples per second. Each plot draws its new points at most five
times a second (`redraw_ms`), the four taking turns, so that the GUI thread is
never held by more than one plot's repaint at a time. The x axis spans the
whole run from its start; each y axis starts at 0 (but the metric's) and ends
on round numbers that change only when the points outgrow them
(`axes.SteadyAxes`: a redrawn axis is most of a frame's cost). Each run gets
its own colour; the loss plot's legend names each run once ("run 1": the
solid training curve; its validation curve is the dashed one in the same
colour, as the title says), so five runs do not bury the curves under ten
entries. `clear` forgets every run. Colours follow the application palette
(light or dark) and change with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from studio.train import BatchEnded, EpochEnded
from studio.ui.training.axes import SteadyAxes, bounds
from studio.ui.training.plot_look import colour_legend, colour_plot

# Readable on light and dark backgrounds; a run takes the next one.
RUN_COLOURS = ("#2f7df6", "#f08c00", "#1e9e5a", "#d6336c", "#8b5cf6", "#0ea5e9", "#a16207", "#64748b")


def run_colour(number: int) -> QColor:
    """The colour of run ``number`` (1-based)."""
    return QColor(RUN_COLOURS[(number - 1) % len(RUN_COLOURS)])


# The curves each plot shows (by attribute of `Dashboard`), whose points set its y range.
_PLOTTED = {"loss_plot": ("train_loss", "val_loss"), "metric_plot": ("metric", "metric2"),
            "lr_plot": ("lr",), "speed_plot": ("speed",)}


# Plots whose y axis starts at 0 (unless a point is below it): a constant learning rate would
# sit mid-range and read as "0"; samples/s wobbles by a few percent and would move its range
# every few epochs; a falling loss would move it down four or five times in the first epoch,
# each move a redraw of the axis (~8 ms), with little to gain as the first, high points stay.
_FROM_ZERO = ("loss_plot", "lr_plot", "speed_plot")

# The order in which the plots take turns to draw their new points (`Dashboard._draw_next`).
_TURNS = tuple(_PLOTTED)
LEGEND_ROWS = 3  # the loss plot is small: a taller legend would hide its curves and run off its bottom


@dataclass
class _Series:
    """One curve and its points; new points reach the curve at the next `flush`."""

    item: pg.PlotDataItem
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    dirty: bool = False

    def add(self, x: float, y: float | None) -> None:
        if y is None or not np.isfinite(y):
            return
        self.x.append(x)
        self.y.append(y)
        self.dirty = True

    def flush(self) -> None:
        if self.dirty:
            self.dirty = False
            self.item.setData(np.asarray(self.x), np.asarray(self.y))


class Dashboard(QWidget):
    """The curves of every run; `begin_run`, `add_batch`, `add_epoch` feed it."""

    def __init__(self, parent: QWidget | None = None, redraw_ms: int = 200):
        super().__init__(parent)
        # Points arrive ~20 times a second; each plot is redrawn at most every `redraw_ms`.
        # One plot a tick: a repaint of all four at once held the GUI thread for 10-15 ms.
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(max(1, redraw_ms // len(_TURNS)))
        self._redraw.timeout.connect(self._draw_next)
        self._turn = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(420, 300)
        layout.addWidget(self.view)
        self.loss_plot = self._plot(0, 0, "Loss (dashed: validation)")
        self.metric_plot = self._plot(0, 1, "Validation accuracy (%)")
        self.lr_plot = self._plot(1, 0, "Learning rate")
        self.speed_plot = self._plot(1, 1, "Samples / s")
        self.legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.metric_legend = None
        self.metric_shown = True  # hidden (the loss plot takes its place) for tasks without one
        # y only: `set_epochs` fixes x to the whole run
        self._axes = {name: SteadyAxes(getattr(self, name), x=False) for name in _PLOTTED}
        self.runs: dict[int, dict[str, _Series]] = {}
        self.epochs = 0  # the x axis spans 0..epochs (`set_epochs`)
        self.task: str | None = None
        self.apply_palette()

    def _plot(self, row: int, col: int, title: str) -> pg.PlotItem:
        plot = self.view.addPlot(row=row, col=col, enableMenu=False)  # a menu costs ~7 ms to make
        self._title(plot, title)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "epoch")
        plot.hideButtons()
        plot.getAxis("left").setWidth(52)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.enableAutoSIPrefix(False)
            # Drawing an axis (its ticks, labels and grid lines) is most of a frame; cached, it is
            # drawn again only when its range changes, not each time a curve gets a point.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        return plot

    # --- feeding ----------------------------------------------------------------------
    def begin_run(self, number: int) -> None:
        """Add the (still empty) curves of run ``number``."""
        colour = run_colour(number)
        solid = pg.mkPen(colour, width=1.6)
        dashed = pg.mkPen(colour, width=1.8, style=Qt.PenStyle.DashLine)
        symbol = dict(symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=colour)
        label = f"run {number}"
        series = {
            "train_loss": self._series(self.loss_plot, solid, label),
            "val_loss": self._series(self.loss_plot, dashed, None, **symbol),
            "metric": self._series(self.metric_plot, solid, None, **symbol),
            "metric2": self._series(self.metric_plot, dashed, None, **symbol),
            "lr": self._series(self.lr_plot, solid, None),
            "speed": self._series(self.speed_plot, solid, None),
        }
        self.runs[number] = series
        self._fit_legend()

    def _fit_legend(self) -> None:
        """At most `LEGEND_ROWS` rows: more runs go into more columns, not below the plot's bottom edge."""
        self.legend.setColumnCount(max(1, math.ceil(len(self.runs) / LEGEND_ROWS)))

    def _series(self, plot: pg.PlotItem, pen, name: str | None, **kw: Any) -> _Series:
        item = plot.plot([], [], pen=pen, name=name, **kw)
        item.setClipToView(True)
        item.setDownsampling(auto=True, method="mean")
        return _Series(item)

    def set_epochs(self, total: int) -> None:
        """Fix the x axis to 0..``total`` epochs (the longest run shown), so it never rescales mid-run."""
        self.epochs = max(total, self.epochs if self.runs else total)
        for axes in self._axes.values():  # a new run: follow its points again, even after a zoom
            axes.user_moved = False
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot, self.speed_plot):
            plot.enableAutoRange(x=False)
            plot.setXRange(0, self.epochs, padding=0.02)

    def add_batch(self, number: int, event: BatchEnded) -> None:
        """A batch event of run ``number``: training loss, learning rate and speed."""
        series = self.runs.get(number)
        if series is None:
            return
        x = event.epoch - 1 + event.batch / max(event.batches, 1)
        series["train_loss"].add(x, event.loss)
        series["lr"].add(x, event.lr if event.lr > 0 else None)
        series["speed"].add(x, event.samples_per_s)
        self._schedule()

    def add_epoch(self, number: int, event: EpochEnded) -> None:
        """An epoch of run ``number``: validation loss and the task's metric."""
        series = self.runs.get(number)
        if series is None:
            return
        m = event.metrics
        series["val_loss"].add(event.epoch, m.get("val_loss"))
        if "val_accuracy" in m:
            self._set_task("classification")
            series["metric"].add(event.epoch, 100.0 * m["val_accuracy"])
        elif "val_r2" in m:
            self._set_task("regression")
            series["metric"].add(event.epoch, m.get("val_r2"))
            series["metric2"].add(event.epoch, m.get("val_mae"))
        self._show_metric(self.task is not None)
        self._schedule()

    def show_saved_run(self, number: int, epochs: list[dict[str, Any]]) -> None:
        """The curves of run ``number`` read back from its metrics.jsonl (`epochs`, one dict per epoch).

        The file keeps epochs, not batches: the training loss, learning rate and
        speed (means over an epoch) are drawn at each epoch's middle.
        """
        self.begin_run(number)
        series = self.runs[number]
        for m in epochs:
            if not isinstance(m.get("epoch"), int):
                continue
            for name, key in (("train_loss", "train_loss"), ("lr", "lr"), ("speed", "samples_per_s")):
                series[name].add(m["epoch"] - 0.5, m.get(key))
            self.add_epoch(number, EpochEnded(m["epoch"], m))
        self._schedule()

    def _show_metric(self, show: bool) -> None:
        """Show the metric plot, or hide it and let the loss plot take both columns."""
        if show == self.metric_shown:
            return
        self.metric_shown = show
        layout = self.view.ci
        layout.removeItem(self.loss_plot)
        if not show:
            layout.removeItem(self.metric_plot)
            layout.addItem(self.loss_plot, row=0, col=0, colspan=2)
        else:
            layout.addItem(self.loss_plot, row=0, col=0)
            layout.addItem(self.metric_plot, row=0, col=1)

    def _schedule(self) -> None:
        if not self._redraw.isActive():
            self._redraw.start()

    def flush(self) -> None:
        """Show every point received so far, on every plot (the end of a run, tests)."""
        for name in _TURNS:
            self._draw(name)

    @Slot()
    def _draw_next(self) -> None:
        """Draw the new points of the plot whose turn it is; go on while any plot has some."""
        self._draw(_TURNS[self._turn])
        self._turn = (self._turn + 1) % len(_TURNS)
        if any(s.dirty for s in self._every_series()):
            self._redraw.start()

    def _every_series(self):
        """Every curve of every run."""
        return (s for series in self.runs.values() for s in series.values())

    def _draw(self, name: str) -> None:
        """Hand plot ``name`` its new points and a y range that holds all its points."""
        curves = [run[curve] for run in self.runs.values() for curve in _PLOTTED[name]]
        if not any(s.dirty for s in curves):
            return
        for s in curves:
            s.flush()
        span = bounds(s.y for s in curves)
        if span is not None and name in _FROM_ZERO:
            span = (min(span[0], 0.0), span[1])
        percent = name == "metric_plot" and self.task == "classification"
        self._axes[name].fit(y=span, y_limits=(0.0, 100.0) if percent else (None, None))

    def _set_task(self, task: str) -> None:
        if task == self.task:
            return
        self.task = task
        title = "Validation R² (solid) and MAE (dashed)" if task == "regression" else "Validation accuracy (%)"
        # The title only: `apply_palette` would redraw all eight axes (~80 ms) at the first epoch.
        self._title(self.metric_plot, title)

    def clear(self, keep: int | None = None) -> None:
        """Forget every run's curves (but run ``keep``, when given: the one training now)."""
        for number in [n for n in self.runs if n != keep]:
            self.remove_run(number)

    def remove_run(self, number: int) -> None:
        """Take the curves of run ``number`` off the plots."""
        for s in self.runs.pop(number, {}).values():
            self.legend.removeItem(s.item)
            for plot in (self.loss_plot, self.metric_plot, self.lr_plot, self.speed_plot):
                if s.item in plot.listDataItems():
                    plot.removeItem(s.item)
        self._fit_legend()
        for axes in self._axes.values():  # the points left may fit a tighter range
            axes.reset()
        for s in self._every_series():
            s.dirty = bool(s.x)
        self._schedule()
        if not self.runs:
            self.task = None
            self._show_metric(True)
            for axes in self._axes.values():  # empty plots show no figures of a run that is gone
                axes.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.03)

    def points(self, number: int, name: str) -> tuple[list[float], list[float]]:
        """The points curve ``name`` of run ``number`` shows now (for tests and tools)."""
        item = self.runs[number][name].item
        x, y = item.xData, item.yData  # all of it, not just what is in view
        return ([] if x is None else list(x)), ([] if y is None else list(y))

    # --- look -------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)

    def apply_palette(self) -> None:
        """Background, axes, grid and titles from the widget's palette."""
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        sub = QColor(text)
        sub.setAlphaF(0.75)
        self.view.setBackground(base)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot, self.speed_plot):
            colour_plot(plot, text, sub)
        colour_legend(self.legend, base, text)

    def _title(self, plot: pg.PlotItem, title: str) -> None:
        """Set ``plot``'s title, in the palette's text colour."""
        plot.setTitle(title, color=self.palette().color(QPalette.ColorRole.Text).name(), size="9pt")
