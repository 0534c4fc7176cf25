"""Plot ranges that end on round numbers and change only when the points outgrow them.

Redrawing a pyqtgraph axis (ticks, labels and the grid across the plot) is
most of the cost of a frame; an auto-ranged plot redraws its axes with every
new point, which made each epoch's frame of the training dashboard 15-25 ms of
the GUI thread while it trained. `SteadyAxes` keeps a plot's range while every
point fits in it well, so most frames only draw the new stretch of curve.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence

import pyqtgraph as pg


def steady_range(lo: float, hi: float, current: tuple[float, float] | None = None, fill: float = 0.5,
                 grow: float = 0.25, limits: tuple[float | None, float | None] = (None, None)
                 ) -> tuple[float, float]:
    """An axis range for points between ``lo`` and ``hi`` that seldom changes.

    ``current`` is kept while it holds every point and the points span at
    least ``fill`` of it. Otherwise the range reaches from ``lo`` down and
    ``hi`` up to multiples of a 1-2-5 step (about five steps over the points),
    with ``grow`` times their span to spare on a side the points outgrew (a
    falling loss will fall further), though never across zero nor past
    ``limits`` (such as 0..100 for a percentage) unless a point lies there.
    """
    if current is not None and current[0] <= lo and hi <= current[1] \
            and hi - lo >= fill * (current[1] - current[0]) * (1 - 1e-9):  # exactly `fill`, whatever the rounding
        return current
    span = hi - lo if hi > lo else (abs(hi) or 1.0)
    step = nice_step(span / 5)
    low, high = lo, hi
    if current is not None:
        if lo < current[0]:
            low = lo - grow * span if lo < 0 else max(lo - grow * span, 0.0)
        if hi > current[1]:
            high = hi + grow * span if hi > 0 else min(hi + grow * span, 0.0)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    if high - low < step / 2:  # a flat line: a step either side of it
        low, high = low - step, high + step
    if limits[0] is not None:
        low = max(low, min(limits[0], lo))
    if limits[1] is not None:
        high = min(high, max(limits[1], hi))
    return min(low, lo), max(high, hi)  # (rounding on the tiniest numbers could leave a point out)


def nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``raw`` (> 0)."""
    raw = max(raw, sys.float_info.min)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def bounds(series: Iterable[Sequence[float]]) -> tuple[float, float] | None:
    """The smallest and largest value over ``series`` (lists of finite numbers); None when all are empty."""
    parts = [s for s in series if len(s)]
    if not parts:
        return None
    return min(min(s) for s in parts), max(max(s) for s in parts)


class SteadyAxes:
    """Sets a plot's x and y ranges from `fit`, through `steady_range`.

    Auto-ranging is turned off on the axes it keeps. A plot the user zooms or
    pans keeps their view until `reset`.
    """

    def __init__(self, plot: pg.PlotItem, x: bool = True, y: bool = True):
        self.plot = plot
        self.kept = {"x": x, "y": y}
        self.ranges: dict[str, tuple[float, float]] = {}
        self.user_moved = False
        plot.enableAutoRange(**{axis: False for axis, kept in self.kept.items() if kept})
        plot.getViewBox().sigRangeChangedManually.connect(self._moved)

    def _moved(self, *_) -> None:
        self.user_moved = True

    def fit(self, x: tuple[float, float] | None = None, y: tuple[float, float] | None = None,
            y_limits: tuple[float | None, float | None] = (None, None)) -> None:
        """Make the ranges hold points spanning ``x`` and ``y`` ((low, high) each; None: no points).

        ``y_limits``: bounds y never goes past unless a point does (see `steady_range`).
        """
        if self.user_moved:
            return
        for axis, span in (("x", x), ("y", y)):
            if span is None or not self.kept[axis]:
                continue
            new = steady_range(*span, self.ranges.get(axis), limits=y_limits if axis == "y" else (None, None))
            if new != self.ranges.get(axis):
                self.ranges[axis] = new
                # a little padding, so that points on a round end are not cut in half
                (self.plot.setXRange if axis == "x" else self.plot.setYRange)(*new, padding=0.03)

    def reset(self) -> None:
        """Forget the ranges set and the user's zoom: the next `fit` starts afresh."""
        self.ranges.clear()
        self.user_moved = False
