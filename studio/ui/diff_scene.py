"""The architecture diff of two runs drawn on a canvas: `DiffScene`.

The scene shows run B's version of one network (or block) with the editor's
own node cards (`studio.ui.scene.NetworkScene`, on a private copy, read-only),
and marks what differs from run A (`studio.graph.diff`): an added node in
green, a changed one in amber (its tooltip says old → new), and a removed
one as a faded red ghost at its old place. New wires are traced in green,
removed ones as red dashed lines. Each mark names its kind above the card,
so the colour is never the only cue.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem

from studio import catalog
from studio.graph import Network
from studio.graph.diff import GraphDiff, change_text
from studio.graph.summary import type_label
from studio.ui import theme
from studio.ui.node_item import NodeItem, NodeLook
from studio.ui.scene import NetworkScene

KINDS = ("added", "removed", "changed")


def diff_colour(kind: str) -> QColor:
    """Green, red or amber, readable on the light and the dark canvas."""
    light = theme.current().name == "light"
    return QColor({"added": ("#1f8a3b", "#5fd38a"), "removed": ("#c62828", "#ff6b6b"),
                   "changed": ("#b26a00", "#ffb74d")}[kind][0 if light else 1])


class DiffMark(QGraphicsItem):
    """A coloured outline around a node card, with its kind written above it."""

    def __init__(self, rect: QRectF, kind: str, tip: str):
        super().__init__()
        self.kind, self.rect = kind, rect.adjusted(-5, -5, 5, 5)
        self.setToolTip(tip)
        self.setZValue(3)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-2, -18, 2, 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        colour = diff_colour(self.kind)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 2.6, Qt.PenStyle.DashLine if self.kind == "removed" else Qt.PenStyle.SolidLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self.rect, 9, 9)
        font = QFont()
        font.setPointSizeF(8.0)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(QRectF(self.rect.left() + 4, self.rect.top() - 17, self.rect.width(), 15),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.kind)


class DiffScene(NetworkScene):
    """Run B's `new` network with run A's differences (`diff`, against `old`) marked on it."""

    def __init__(self, new: Network, old: Network, diff: GraphDiff, parent=None):
        super().__init__(new, parent)
        self.old, self.diff = old, diff
        self.marks: dict[str, DiffMark] = {}  # node name -> its mark
        self.ghosts: dict[str, NodeItem] = {}  # removed node's name -> its faded card
        for item in self.nodes.values():
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
        self._mark_nodes()
        self._mark_wires()

    def _mark_nodes(self) -> None:
        for info in self.diff.added:
            self._mark(info.name, self.nodes[info.id], "added", f"added: {info.type}")
        for change in self.diff.changed:
            self._mark(change.name, self.nodes[change.id], "changed", change_text(change))
        for info in self.diff.removed:
            ghost = NodeItem(info.id, self._old_look(info.id))
            ghost.setFlags(QGraphicsItem.GraphicsItemFlag(0))
            ghost.setOpacity(0.45)
            ghost.setPos(*info.pos)
            self.addItem(ghost)
            self._clear_of_cards(ghost)
            self.ghosts[info.name] = ghost
            self._mark(info.name, ghost, "removed", f"removed: {info.type}")

    def _clear_of_cards(self, ghost: NodeItem) -> None:
        """Moves a ghost down below any card at its old place (a layer replaced where it stood)."""
        cards = [item.sceneBoundingRect() for item in self.nodes.values()]
        for _ in range(4):
            if not any(ghost.sceneBoundingRect().adjusted(0, -24, 0, 0).intersects(c) for c in cards):
                return
            ghost.moveBy(0, ghost.card().height() + 40)

    def focus_rect(self, margin: float = 150.0) -> QRectF:
        """Where the differences are (with ``margin`` around them), or the whole network when none are."""
        marks = [m.sceneBoundingRect() for m in self.marks.values()]
        if not marks:
            return self.itemsBoundingRect().adjusted(-30, -30, 30, 30)
        rect = marks[0]
        for other in marks[1:]:
            rect = rect.united(other)
        return rect.adjusted(-margin, -margin / 2, margin, margin / 2)

    def _mark(self, name: str, item: NodeItem, kind: str, tip: str) -> None:
        mark = DiffMark(item.mapRectToScene(item.card()), kind, tip)
        self.addItem(mark)
        self.marks[name] = mark

    def _old_look(self, node_id: str) -> NodeLook:
        node = self.old.nodes[node_id]
        try:
            ins, outs = self.old.ports(node)
        except Exception:  # a block whose definition is gone: the card without ports
            ins, outs = (), ()
        spec = catalog.REGISTRY.get(node.type)
        return NodeLook(node.name, type_label(node), spec.category if spec else "Block", tuple(ins), tuple(outs))

    def _mark_wires(self) -> None:
        for wire in self.diff.wires_added:
            self._trace(wire, "added", self._new_item)
        for wire in self.diff.wires_removed:
            self._trace(wire, "removed", self._old_item)

    def _new_item(self, name: str) -> NodeItem | None:
        node_id = next((nid for nid, n in self.network.nodes.items() if n.name == name), None)
        return self.nodes.get(node_id) if node_id is not None else None

    def _old_item(self, name: str) -> NodeItem | None:
        return self.ghosts.get(name) or self._new_item(name)

    def _trace(self, wire: str, kind: str, find) -> None:
        """A straight coloured line over ``a.port -> b.port``, when both ends are on show."""
        src, dst = wire.split(" -> ")
        (a, a_port), (b, b_port) = src.rsplit(".", 1), dst.rsplit(".", 1)
        start, end = find(a), find(b)
        if start is None or end is None:
            return
        pen = QPen(diff_colour(kind), 2.4, Qt.PenStyle.DashLine if kind == "removed" else Qt.PenStyle.SolidLine)
        line = QGraphicsLineItem(QLineF(_port(start, "out", a_port), _port(end, "in", b_port)))
        line.setPen(pen)
        line.setZValue(2)
        line.setToolTip(f"wire {kind}: {wire}")
        self.addItem(line)


def _port(item: NodeItem, side: str, port: str) -> QPointF:
    return item.port_scene_pos(side, port)
