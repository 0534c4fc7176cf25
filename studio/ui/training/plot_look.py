"""The palette's colours on a pyqtgraph plot: axes, axis labels, title and legend.

The dashboard, the task plots and the Layers tab draw their plots alike, and
each calls these when the palette changes (light or dark theme).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor


def colour_plot(plot: pg.PlotItem, text: QColor, sub: QColor) -> None:
    """Axes and axis labels in `sub` (a fainter text colour), the title in `text`."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(sub))
        axis.setTextPen(pg.mkPen(sub))
        axis.label.setDefaultTextColor(sub)
    plot.setTitle(plot.titleLabel.text, color=text.name(), size="9pt")


def legend_text(legend: pg.LegendItem, text: QColor) -> None:
    """The legend's labels in `text`, those it shows already too."""
    legend.setLabelTextColor(text)
    for _, label in legend.items:  # pyqtgraph 0.14 stores the colour but draws the old one until set again
        label.setText(label.text)


def colour_legend(legend: pg.LegendItem, base: QColor, text: QColor) -> None:
    """Labels in `text` on a translucent `base` fill with a faint border."""
    legend_text(legend, text)
    fill = QColor(base)
    fill.setAlphaF(0.8)
    legend.setBrush(pg.mkBrush(fill))
    legend.setPen(pg.mkPen(QColor(text.red(), text.green(), text.blue(), 60)))
