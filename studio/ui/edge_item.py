"""How one wire looks: `EdgeItem`, a curve from an output port to an input port with its shape label.

The curve is an S-bend (cubic Bézier) between the two port positions the
scene gives it, vertical when data flows down and horizontal when it flows
right (`studio.ui.flow`). A wire that would run through other cards (a skip
connection beside a straight chain) takes a lane beside them instead: the
scene passes the lane's offset from `detour`. Just past its source port a
small rounded label shows the tensor shape that flows along it ("N×6×28×28");
that spot lies in the gap between ranks, so the label never covers a card. A
wire whose source failed shows no label. Selecting a wire (click) lets Delete remove it.
`PendingWire` is the wire that follows the mouse while the user drags from a
port.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from studio.graph import Edge
from studio.ui import flow, theme


def wire_path(a: QPointF, b: QPointF, lane: float | None = None) -> QPainterPath:
    """The S-curve from `a` (an output) to `b` (an input); with `lane`, running along it (x, or y flowing right)."""
    down = flow.down()

    def pt(along: float, across: float) -> QPointF:  # (along the flow, across it) -> scene point
        return QPointF(across, along) if down else QPointF(along, across)

    (a1, a2), (b1, b2) = ((a.y(), a.x()), (b.y(), b.x())) if down else ((a.x(), a.y()), (b.x(), b.y()))
    path = QPainterPath(a)
    if lane is None:
        d = max(40.0, abs(b1 - a1) * 0.5)
        path.cubicTo(pt(a1 + d, a2), pt(b1 - d, b2), b)
        return path
    g = GAP_TURN
    path.cubicTo(pt(a1 + g * 0.6, a2), pt(a1 + g * 0.4, lane), pt(a1 + g, lane))
    path.lineTo(pt(b1 - g, lane))
    path.cubicTo(pt(b1 - g * 0.4, lane), pt(b1 - g * 0.6, b2), b)
    return path


GAP_TURN = 26.0  # a detour leaves and rejoins within this distance of a port: inside the gap between ranks


def detour(a: QPointF, b: QPointF, cards: list[QRectF]) -> float | None:
    """The lane (x, or y flowing right) for a wire from `a` to `b` that keeps clear of `cards`; None when clear.

    The lane starts just past the cards the S-curve would cross, on the side nearer the ends, and moves on
    past any card it would run through in turn (a skip connection beside two or three columns of cards).
    """
    down = flow.down()
    hit = [r for r in cards if _stroke(wire_path(a, b)).intersects(r)]
    if not hit:
        return None
    lo, hi = (QRectF.left, QRectF.right) if down else (QRectF.top, QRectF.bottom)
    ends = (a.x(), b.x()) if down else (a.y(), b.y())
    best = None
    for side in (1, -1):
        lane = max(map(hi, hit)) + LANE_GAP if side > 0 else min(map(lo, hit)) - LANE_GAP
        for _ in range(8):
            stroke = _stroke(wire_path(a, b, lane))
            blocking = [r for r in cards if stroke.intersects(r)]
            if not blocking:
                cost = abs(lane - ends[0]) + abs(lane - ends[1])
                if best is None or cost < best[0]:
                    best = (cost, lane)
                break
            lane = max(lane, max(map(hi, blocking)) + LANE_GAP) if side > 0 else min(lane, min(map(lo, blocking)) - LANE_GAP)
    return best[1] if best else max(map(hi, hit)) + LANE_GAP


LANE_GAP = 24.0  # between a detour's lane and the cards it passes


def _stroke(path: QPainterPath) -> QPainterPath:
    stroker = QPainterPathStroker()
    stroker.setWidth(8)  # the curve's own line: a path alone would count the area its chord closes
    return stroker.createStroke(path)


def _label_font() -> QFont:
    f = QFont()
    f.setPointSizeF(f.pointSizeF() * 0.95)
    return f


class EdgeItem(QGraphicsItem):
    """A wire. `edge` is the model edge it shows (a frozen value, not state)."""

    def __init__(self, edge: Edge):
        super().__init__()
        self.edge = edge
        self.label = ""
        self._a = QPointF()
        self._b = QPointF()
        self._lane: float | None = None
        self._path = QPainterPath()
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)

    def set_ends(self, a: QPointF, b: QPointF, lane: float | None = None) -> None:
        """Moves the wire's ends (scene coordinates), running along `lane` (see `detour`) if given."""
        if a == self._a and b == self._b and lane == self._lane and not self._path.isEmpty():
            return
        self.prepareGeometryChange()
        self._a, self._b, self._lane = QPointF(a), QPointF(b), lane
        self._path = wire_path(a, b, lane)
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
            a = self._a  # just past the output port, in the gap between ranks
            if flow.down():
                self._label_rect = QRectF(a.x() - w / 2, a.y() + 6, w, h)
            else:
                self._label_rect = QRectF(a.x() + 8, a.y() - h / 2, w, h)
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
