"""How one node looks on the canvas: `NodeItem`, a rounded card with ports.

The card shows the node's name (bold, a little larger than the UI font) and
its type on a second line, a stripe in its category's colour, and its ports
as circles where data flows in and out (`studio.ui.flow`): inputs on the top
edge and outputs on the bottom when data flows down, left and right edges when
it flows right, with their names when a side has more than one. The card is as wide as its
title, type and port names need (`studio.graph.layout.card_width`); only a
name past its maximum width is elided, and the tooltip gives it whole. A
selection outline, and a red fill and outline when analysis reports an error
(the message is its tooltip). A frozen node (its weights left alone by
training, see `studio.ui.freeze`) is drawn muted, hatched, with a dashed
ice-blue outline, a snowflake in its corner and "· frozen" after its type.
A node whose gradients vanish or explode in the running training (the
training dock's per-layer measurements, `set_gradient`) gets a halo: blue
and dashed for vanishing, orange for exploding, with a "∇" badge on its corner.
Ports are painted, not child items, and found by
`port_at`, so a 600-node graph stays 600 items.

The item holds only what it displays (a `NodeLook` the scene gives it); the
node itself lives in the `Network`. Moving the item by mouse is a preview: the
scene turns it into one undoable move when the drag ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import math

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from studio.graph.layout import NODE_W, card_width
from studio.ui import flow, theme

WIDTH = NODE_W     # wider when its names need it (studio.graph.layout.card_width)
HEADER = 48.0      # stripe + name line + type line
ROW = 17.0         # one named port per row
PORT_R = 5.0       # port circle radius
HIT_R = 10.0       # how near a click must be to take a port


def ice_colour(t) -> QColor:
    """The accent of frozen nodes, readable on the light and the dark canvas."""
    return QColor("#2f74b5") if t.name == "light" else QColor("#8cc4ff")


def draw_snowflake(painter: QPainter, centre: QPointF, r: float, colour: QColor) -> None:
    """A six-armed snowflake drawn with lines (no font needs the glyph)."""
    painter.save()
    pen = QPen(colour, 1.4)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    for k in range(6):
        a = math.radians(90 + 60 * k)
        tip = QPointF(centre.x() + r * math.cos(a), centre.y() - r * math.sin(a))
        painter.drawLine(QLineF(centre, tip))
        mid = QPointF(centre.x() + 0.55 * r * math.cos(a), centre.y() - 0.55 * r * math.sin(a))
        for side in (-1, 1):
            b = a + side * math.radians(45)
            painter.drawLine(QLineF(mid, QPointF(mid.x() + 0.38 * r * math.cos(b), mid.y() - 0.38 * r * math.sin(b))))
    painter.restore()


@dataclass
class NodeLook:
    """What a node item shows (copied from the model and the analysis report)."""

    name: str
    type_label: str
    category: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    status: str = "ok"
    message: str = ""
    doc: str = ""
    marks: dict = field(default_factory=dict)  # input port -> "valid" while a wire is dragged


def _fonts() -> tuple[QFont, QFont]:
    """The title (15 % over the UI font, so it stays legible from a zoom of 0.87) and the type line."""
    small = QFont()
    title = QFont(small)
    title.setPointSizeF(small.pointSizeF() * 1.15)
    title.setBold(True)
    return title, small


READABLE_ZOOM = 1 / 1.15  # the lowest zoom at which a title is at least the UI font size


class NodeItem(QGraphicsItem):
    """A node card. `node_id` names the model node it shows."""

    def __init__(self, node_id: str, look: NodeLook):
        super().__init__()
        self.node_id = node_id
        self.look = look
        self._height = 0.0
        self._width = WIDTH
        self.frozen = False
        self.gradient = "ok"
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsScenePositionChanges)
        # Painting text is the costly part; cache the card while it only moves.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(False)
        self.setZValue(1)
        self._layout()

    # --- geometry ---------------------------------------------------------
    def _named(self) -> bool:
        return len(self.look.inputs) > 1 or len(self.look.outputs) > 1

    def _name_rows(self) -> tuple[int, int]:
        """Rows of port names (above the title, below the type) when data flows down."""
        return int(len(self.look.inputs) > 1), int(len(self.look.outputs) > 1)

    def _top(self) -> float:
        """Where the title block starts: below the row of input names, if any."""
        return ROW * self._name_rows()[0] if flow.down() else 0.0

    def _layout(self) -> None:
        title, small = _fonts()
        look = self.look
        self._width = card_width(flow.current(), look.name, look.type_label, look.inputs, look.outputs,
                                 QFontMetricsF(title).horizontalAdvance, QFontMetricsF(small).horizontalAdvance)
        if flow.down():
            self._height = HEADER + 6 + ROW * sum(self._name_rows())
            return
        rows = max(len(self.look.inputs), len(self.look.outputs))
        self._height = HEADER + 4 + rows * ROW if self._named() else HEADER + 6

    def boundingRect(self) -> QRectF:
        return QRectF(-PORT_R - 2, -6, self._width + 2 * PORT_R + 4, self._height + 12)  # room for the gradient halo

    def card(self) -> QRectF:
        """The card's rectangle in item coordinates."""
        return QRectF(0, 0, self._width, self._height)

    def port_pos(self, side: str, port: str) -> QPointF:
        """Where a port's circle sits, in item coordinates; side is "in" or "out"."""
        ports = self.look.inputs if side == "in" else self.look.outputs
        i = ports.index(port) if port in ports else 0
        if flow.down():
            return QPointF(self._width * (i + 1) / (len(ports) + 1), 0.0 if side == "in" else self._height)
        x = 0.0 if side == "in" else self._width
        if self._named():
            return QPointF(x, HEADER + 2 + ROW * (i + 0.5))
        return QPointF(x, self._height / 2)

    def port_scene_pos(self, side: str, port: str) -> QPointF:
        """A port's position in scene coordinates."""
        return self.mapToScene(self.port_pos(side, port))

    def port_at(self, pos: QPointF) -> tuple[str, str] | None:
        """(side, port) of the port near `pos` (item coordinates), or None."""
        best = None
        for side, ports in (("in", self.look.inputs), ("out", self.look.outputs)):
            for p in ports:
                d = self.port_pos(side, p) - pos
                dist = (d.x() ** 2 + d.y() ** 2) ** 0.5
                if dist <= HIT_R and (best is None or dist < best[0]):
                    best = (dist, side, p)
        return (best[1], best[2]) if best else None

    # --- state --------------------------------------------------------------
    def set_look(self, look: NodeLook) -> None:
        """Shows new values; geometry changes only when the ports or the names do."""
        if look == self.look:
            return
        if (look.inputs, look.outputs, look.name, look.type_label) != (self.look.inputs, self.look.outputs,
                                                                        self.look.name, self.look.type_label):
            self.prepareGeometryChange()
            self.look = look
            self._layout()
        else:
            self.look = look
        self.setToolTip(look.message if look.status == "error" else tooltip(look))
        self.update()

    def set_frozen(self, frozen: bool) -> None:
        """Shows the node as frozen (training leaves its weights alone) or not."""
        if frozen != self.frozen:
            self.frozen = frozen
            self.update()

    def set_gradient(self, state: str) -> None:
        """Marks the node's gradients as "vanishing", "exploding" or "ok" (no mark)."""
        if state != self.gradient:
            self.gradient = state
            tip = f"{self.look.type_label}: {self.look.doc}"
            self.setToolTip(tip if state == "ok" else f"Gradients {state} in training. {tip}")
            self.update()

    def set_marks(self, marks: dict) -> None:
        """Highlights input ports (port -> "valid") while a wire is dragged."""
        if marks != self.look.marks:
            self.look.marks = marks
            self.update()

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemScenePositionHasChanged and self.scene() is not None:
            self.scene().node_item_moved(self)
        return super().itemChange(change, value)

    # --- painting -----------------------------------------------------------
    def paint(self, painter: QPainter, option, widget=None) -> None:
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.card()
        error = self.look.status == "error"
        ice = ice_colour(t)
        path = self._paint_card(painter, t, rect, error, ice)
        self._paint_stripe(painter, t, path, rect, ice)
        if self.frozen:
            draw_snowflake(painter, QPointF(self._width - 13, 16), 6.5, ice)
        if self.gradient != "ok":
            self._paint_gradient(painter, rect)
        self._paint_text(painter, t, error, ice)
        self._paint_ports(painter)

    def _paint_card(self, painter: QPainter, t, rect: QRectF, error: bool, ice: QColor) -> QPainterPath:
        """The rounded card: filled and bordered by its state (selected, error, frozen: dashed); its outline."""
        frozen = self.frozen
        fill = t.error_fill if error else (_mix(t.node, t.canvas, 0.55) if frozen else t.node)
        border = t.selection if self.isSelected() else (t.error if error else (ice if frozen else t.node_border))
        path = QPainterPath()
        path.addRoundedRect(rect, 7, 7)
        pen = QPen(border, 2.2 if self.isSelected() or error else (1.4 if frozen else 1.0))
        if frozen and not self.isSelected() and not error:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush(fill))
        painter.drawPath(path)
        return path

    def _paint_stripe(self, painter: QPainter, t, path: QPainterPath, rect: QRectF, ice: QColor) -> None:
        """The category stripe along the top (and the frozen hatching), clipped to the rounded card."""
        painter.save()
        painter.setClipPath(path)
        if self.frozen:
            hatch = QColor(ice)
            hatch.setAlphaF(0.16 if t.name == "light" else 0.22)
            painter.fillRect(rect, QBrush(hatch, Qt.BrushStyle.BDiagPattern))
        stripe = theme.category_colour(self.look.category)
        if self.frozen:
            stripe = _mix(stripe, t.canvas, 0.5)
        painter.fillRect(QRectF(0, 0, self._width, 4), stripe)
        painter.restore()

    def _paint_text(self, painter: QPainter, t, error: bool, ice: QColor) -> None:
        """The title (the node's name) over the type line."""
        title, small = _fonts()
        text_w, top = self._text_width(), self._top()
        painter.setFont(title)
        painter.setPen(t.error if error else t.text)
        painter.drawText(QRectF(10, top + 6, text_w, 20), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         self.title_text())
        painter.setFont(small)
        painter.setPen(ice if self.frozen else t.subtext)
        painter.drawText(QRectF(10, top + 26, text_w, 18), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         self.type_text())

    # --- the text as drawn (a name is elided only past the card's maximum width) ------------------
    def _text_width(self) -> float:
        return self._width - (34 if self.frozen else 20)  # a frozen card keeps room for its snowflake

    def title_text(self) -> str:
        """The node's name as the card writes it."""
        return QFontMetricsF(_fonts()[0]).elidedText(self.look.name, Qt.TextElideMode.ElideRight, self._text_width())

    def type_text(self) -> str:
        """The type line as the card writes it."""
        look = self.look
        sub = look.type_label if look.status != "blocked" else f"{look.type_label} · blocked"
        sub += " · frozen" if self.frozen else ""
        return QFontMetricsF(_fonts()[1]).elidedText(sub, Qt.TextElideMode.ElideRight, self._text_width())

    def port_text(self, side: str, port: str) -> str | None:
        """A port's name as the card writes it, or None when the card shows no names on that side."""
        named_in, named_out = self._name_rows() if flow.down() else (self._named(),) * 2
        ports = self.look.inputs if side == "in" else self.look.outputs
        if not (named_in if side == "in" else named_out) or port not in ports:
            return None
        box, _ = self._name_box(side, self.port_pos(side, port), len(ports))
        return QFontMetricsF(_fonts()[1]).elidedText(port, Qt.TextElideMode.ElideRight, box.width())

    def _paint_gradient(self, painter: QPainter, rect: QRectF) -> None:
        """The halo and corner word of a node whose gradients vanish (blue, dashed) or explode (orange)."""
        colour = QColor("#3b82f6" if self.gradient == "vanishing" else "#f76707")
        pen = QPen(colour, 2.4)
        if self.gradient == "vanishing":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(-3.5, -3.5, 3.5, 3.5), 9, 9)
        badge = QRectF(self._width - 9, -5, 14, 14)  # a "∇" badge on the corner: the card's own text stays clear
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(badge)
        _, small = _fonts()
        painter.setFont(small)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "∇")

    def _paint_ports(self, painter: QPainter) -> None:
        t, look = theme.current(), self.look
        for side, ports in (("in", look.inputs), ("out", look.outputs)):
            for p in ports:
                c = self.port_pos(side, p)
                valid = side == "in" and look.marks.get(p) == "valid"
                painter.setPen(QPen(t.valid_target if valid else t.node_border, 2.0 if valid else 1.2))
                painter.setBrush(QBrush(t.valid_target if valid else t.node))
                r = PORT_R + (1.5 if valid else 0)
                painter.drawEllipse(c, r, r)
                text = self.port_text(side, p)
                if text is not None:
                    box, align = self._name_box(side, c, len(ports))
                    painter.setPen(t.subtext)
                    painter.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, text)

    def _name_box(self, side: str, c: QPointF, count: int) -> tuple[QRectF, Qt.AlignmentFlag]:
        """Where a port's name is written: beside its circle, inside the card."""
        if flow.down():
            w = self._width / count - 12  # a gap between neighbouring names
            y = c.y() + PORT_R if side == "in" else c.y() - PORT_R - ROW
            return QRectF(c.x() - w / 2, y, w, ROW), Qt.AlignmentFlag.AlignHCenter
        if side == "in":
            return QRectF(10, c.y() - ROW / 2, self._width / 2 - 12, ROW), Qt.AlignmentFlag.AlignLeft
        return QRectF(self._width / 2, c.y() - ROW / 2, self._width / 2 - 10, ROW), Qt.AlignmentFlag.AlignRight


def tooltip(look: NodeLook) -> str:
    """The card's tooltip: its whole name (the card may elide it), type and what the type does."""
    ports = "".join(f"\n{side}: {', '.join(names)}" for side, names in (("inputs", look.inputs), ("outputs", look.outputs))
                    if len(names) > 1)
    return f"{look.name}\n{look.type_label}: {look.doc}{ports}"


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved a fraction `t` of the way towards `b`."""
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))
