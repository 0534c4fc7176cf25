"""Marks the canvas draws over a network that are not part of it.

- `drop_mark`: the highlight on the wire a dragged layer would be spliced into.
- `group_frame`: the titled, dashed frame around the layers of a block
  expanded in place.

`NetworkScene` adds and removes them (`mark_drop_wire`, `show_groups`).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from studio.graph import Edge
from studio.ui import theme
from studio.ui.edge_item import EdgeItem


def drop_mark(edge: Edge, item: EdgeItem) -> QGraphicsPathItem:
    """A translucent highlight over wire ``item``; its data 0 is ``edge``."""
    colour = QColor(theme.current().selection)
    colour.setAlpha(110)
    mark = QGraphicsPathItem(item.shape())
    mark.setData(0, edge)
    mark.setPen(QPen(colour, 4))
    mark.setBrush(colour)
    mark.setZValue(2)
    return mark


def group_frame(title: str, rect: QRectF) -> QGraphicsRectItem:
    """A frame titled ``title`` around the cards that fill ``rect`` (scene coordinates)."""
    colour = QColor(theme.category_colour("Block"))
    frame = QGraphicsRectItem(rect.adjusted(-14, -30, 14, 14))
    frame.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
    fill = QColor(colour)
    fill.setAlpha(22)
    frame.setBrush(fill)
    frame.setZValue(-1)
    label = QGraphicsSimpleTextItem(title, frame)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setBrush(theme.current().text)
    label.setPos(frame.rect().topLeft() + QPointF(8, 6))
    frame.setToolTip(f"{title}: Expand / Collapse Block (Ctrl+Shift+E) on a layer puts the block back")
    return frame
