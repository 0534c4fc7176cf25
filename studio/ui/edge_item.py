"""How one wire looks: `EdgeItem`, a curve from an output port to an input port with its shape label.

The curve is a horizontal S-bend (cubic Bézier) between the two port
positions the scene gives it. At its middle a small rounded label shows the
tensor shape that flows along it ("6×28×28", batch left out); a wire whose
source failed shows no label. Selecting a wire (click) lets Delete remove it.
`PendingWire` is the wire that follows the mouse while the user drags from a
port.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from studio.graph import Edge
from studio.ui import theme


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """The S-curve from `a` (an output) to `b` (an input)."""
    path = QPainterPath(a)
    dx = max(40.0, abs(b.x() - a.x()) * 0.5)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


def _label_font() -> QFont:
    f = QFont()
    f.setPointSizeF(7.5)
    return f


class EdgeItem(QGraphicsItem):
    """A wire. `edge` is the model edge it shows (a frozen value, not state)."""

    def __init__(self, edge: Edge):
        super().__init__()
        self.edge = edge
        self.label = ""
        self._a = QPointF()
        self._b = QPointF()
        self._path = QPainterPath()
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)

    def set_ends(self, a: QPointF, b: QPointF) -> None:
        """Moves the wire's ends (scene coordinates)."""
        if a == self._a and b == self._b and not self._path.isEmpty():
            return
        self.prepareGeometryChange()
        self._a, self._b = QPointF(a), QPointF(b)
        self._path = wire_path(a, b)
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        self._shape = stroker.createStroke(self._path)
        self._relabel()

    def set_label(self, text: str) -> None:
        """Shows `text` (a shape) at the middle of the wire."""
        if text == self.label:
            return
        self.prepareGeometryChange()
        self.label = text
        self._relabel()
        self.update()

    def end_points(self) -> tuple[QPointF, QPointF]:
        """(output end, input end) in scene coordinates."""
        return self._a, self._b

    def label_rect(self) -> QRectF:
        """Where the label is drawn (empty without a label)."""
        return self._label_rect

    def _relabel(self) -> None:
        if self.label:
            fm = QFontMetricsF(_label_font())
            w, h = fm.horizontalAdvance(self.label) + 10, fm.height() + 4
            mid = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        else:
            self._label_rect = QRectF()
        self._bounds = self._path.boundingRect().adjusted(-3, -3, 3, 3).united(self._label_rect)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath(self._shape)
        if self.label:
            path.addRect(self._label_rect)
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = t.selection if self.isSelected() else t.wire
        painter.setPen(QPen(colour, 2.4 if self.isSelected() else 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label:
            painter.setPen(QPen(colour, 1.0))
            painter.setBrush(QBrush(t.label_bg))
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(_label_font())
            painter.setPen(t.text)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class PendingWire(QGraphicsPathItem):
    """The wire that follows the mouse while the user drags from a port."""

    def __init__(self, start: QPointF):
        super().__init__()
        self.start = QPointF(start)
        pen = QPen(theme.current().selection, 2.0, Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setZValue(3)
        self.follow(start)

    def follow(self, pos: QPointF) -> None:
        """Bends the wire to end at `pos`."""
        self.setPath(wire_path(self.start, pos))
