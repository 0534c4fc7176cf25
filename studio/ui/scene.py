"""`NetworkScene`: the canvas items of one `Network`, kept in step with its events.

The scene adds, removes and updates `NodeItem`s and `EdgeItem`s from the
network's events only (node_added, node_removed, edge_added, edge_removed,
params_changed, node_renamed, node_moved); `apply_report` shows an analysis
report (status and tooltip per node, a shape label per wire), touching only
items whose look changed. It never changes the network: user intent leaves
as Qt signals that the editor turns into undoable commands:

    connect_requested(Edge)              a wire dropped on an input (a taken one is replaced)
    reconnect_requested(Edge, Edge)      a wire's end moved to another input
    disconnect_requested(Edge)           a wire's end dropped off its input
    move_requested(dict)                 {node id: (x, y)} when a node drag ends
    splice_requested(str, Edge, dict, bool)  a node dragged onto a wire: (node id, wire, moves, detach first)
    open_block_requested(str)            double-click on a Block node
    quick_add_requested(QPointF)         double-click on empty canvas
    status_message(str)                  why a drop was refused

A wire drawn by mouse is a `WireDrag` (`ui/wire_drag.py`); the marks over
the network (a drop target, frames around expanded blocks) are made by
`ui/scene_marks.py`. The same scene, non-interactive, draws the start page's thumbnails.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.errors import GraphError
from studio.export.symbolic import symbolic_shape
from studio.graph import Edge, Network, Report
from studio.graph.summary import type_label
from studio.graph.wiring import splice_ports
from studio.ui import code_trust, flow
from studio.ui.edge_item import EdgeItem, detour
from studio.ui.node_item import NodeItem, NodeLook, tooltip
from studio.ui.scene_marks import drop_mark, group_frame
from studio.ui.wire_drag import WireDrag


class NetworkScene(QGraphicsScene):
    """The items of one network (see the module docstring for its signals)."""

    connect_requested = Signal(object)
    reconnect_requested = Signal(object, object)
    disconnect_requested = Signal(object)
    move_requested = Signal(dict)
    splice_requested = Signal(str, object, dict, bool)
    open_block_requested = Signal(str)
    quick_add_requested = Signal(QPointF)
    status_message = Signal(str)

    def __init__(self, network: Network, parent=None):
        super().__init__(parent)
        self.network = network
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._by_node: dict[str, set[Edge]] = {}
        self._report: Report | None = None
        self.symbols: dict = {}  # (node id, port) -> {dim: "T"}: sizes an export leaves free (set_symbols)
        self._wire: WireDrag | None = None                # a wire being drawn by mouse
        self._syncing = False
        self._drop_mark: QGraphicsPathItem | None = None  # the wire a dragged layer would be spliced into
        self.frames: list[QGraphicsRectItem] = []  # one around each block expanded in place
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self._reroute = QTimer(self, singleShot=True, interval=0)  # once per batch of moves (auto-layout)
        self._reroute.timeout.connect(self._place_all_edges)
        for nid in network.nodes:
            self._add_node(nid)
        for edge in network.edges:
            self._add_edge(edge)
        self._slots = [(network.node_added, self._add_node), (network.node_removed, self._remove_node),
                       (network.edge_added, self._add_edge), (network.edge_removed, self._remove_edge),
                       (network.params_changed, self._node_changed), (network.node_renamed, self._node_changed),
                       (network.node_moved, self._node_moved)]
        for signal, slot in self._slots:
            signal.connect(slot)

    def detach(self) -> None:
        """Stops following the network and falls silent (call before dropping the scene)."""
        for signal, slot in self._slots:
            signal.disconnect(slot)
        self._slots = []
        # Deleted with a node selected, the scene says its selection changed to an inspector that reads
        # it back from the half-deleted scene (a RuntimeError on closing a project).
        self.blockSignals(True)

    # --- following the model ------------------------------------------------
    def _look(self, node_id: str) -> NodeLook:
        node = self.network.nodes[node_id]
        try:
            ins, outs = self.network.ports(node)
        except Exception:  # a block whose definition is gone: show the card without ports
            ins, outs = (), ()
        spec = None if node.type == BLOCK_TYPE else catalog.get(node.type)
        look = NodeLook(node.name, type_label(node), spec.category if spec else "Block", tuple(ins), tuple(outs),
                        doc=spec.doc if spec else f"an instance of block '{node.params.get('block')}'")
        if spec is not None and spec.runs_code:
            look.doc = code_trust.node_note(node.params.get("target", ""))
        res = self._report.nodes.get(node_id) if self._report else None
        if res is not None:
            look.status, look.message = res.status, res.message or ""
        return look

    def _add_node(self, node_id: str) -> None:
        item = NodeItem(node_id, self._look(node_id))
        item.setToolTip(tooltip(item.look))
        self._syncing = True
        item.setPos(*self.network.nodes[node_id].pos)
        self._syncing = False
        self.nodes[node_id] = item
        self._by_node.setdefault(node_id, set())
        self.addItem(item)

    def _remove_node(self, node) -> None:
        item = self.nodes.pop(node.id, None)
        self._by_node.pop(node.id, None)
        if item is not None:
            self.removeItem(item)

    def _add_edge(self, edge: Edge) -> None:
        item = EdgeItem(edge)
        self.edges[edge] = item
        self._by_node.setdefault(edge.src, set()).add(edge)
        self._by_node.setdefault(edge.dst, set()).add(edge)
        self._place_edge(item)
        item.set_label(self._edge_label(edge))
        self.addItem(item)

    def _remove_edge(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        for nid in (edge.src, edge.dst):
            self._by_node.get(nid, set()).discard(edge)
        if item is not None:
            self.removeItem(item)

    def _node_changed(self, node_id: str, *_) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.set_look(self._look(node_id))
            self.node_item_moved(item)  # ports may have moved

    def _node_moved(self, node_id: str, old, new) -> None:
        item = self.nodes.get(node_id)
        if item is not None and (item.pos().x(), item.pos().y()) != tuple(new):
            self._syncing = True
            item.setPos(*new)
            self._syncing = False
        if not self._reroute.isActive():  # a card that moved may now stand in other wires' way
            self._reroute.start()

    def _place_all_edges(self) -> None:
        for item in self.edges.values():
            self._place_edge(item)

    def node_item_moved(self, item: NodeItem) -> None:
        """Keeps the wires of a node attached while it moves (called by the item)."""
        for edge in self._by_node.get(item.node_id, ()):
            self._place_edge(self.edges[edge])

    def _place_edge(self, item: EdgeItem) -> None:
        e = item.edge
        a, b = self.nodes.get(e.src), self.nodes.get(e.dst)
        if a is not None and b is not None:
            start, end = a.port_scene_pos("out", e.src_port), b.port_scene_pos("in", e.dst_port)
            band = QRectF(start, end).normalized().adjusted(-2, -2, 2, 2)  # the ranks between the ends, all across:
            if flow.down():                                                 # a detour's lane may run beside any card
                band.setLeft(-1e7)
                band.setRight(1e7)
            else:
                band.setTop(-1e7)
                band.setBottom(1e7)
            cards = [i.sceneBoundingRect() for i in self.items(band)
                     if isinstance(i, NodeItem) and i is not a and i is not b]
            item.set_ends(start, end, detour(start, end, cards))

    # --- analysis -------------------------------------------------------------
    def apply_report(self, report: Report | None) -> None:
        """Shows a report: node states and wire labels; only changed items repaint."""
        self._report = report
        for nid, item in self.nodes.items():
            res = report.nodes.get(nid) if report else None
            status, message = (res.status, res.message or "") if res else ("ok", "")
            if (status, message) != (item.look.status, item.look.message):
                look = NodeLook(**{**item.look.__dict__, "status": status, "message": message, "marks": {}})
                item.set_look(look)
        for edge, item in self.edges.items():
            item.set_label(self._edge_label(edge))

    def _edge_label(self, edge: Edge) -> str:
        res = self._report.nodes.get(edge.src) if self._report else None
        if res is None or res.status != "ok" or edge.src_port not in res.outputs:
            return ""
        return symbolic_shape(res.outputs[edge.src_port], self.symbols.get((edge.src, edge.src_port)))

    def set_symbols(self, symbols: dict) -> None:
        """Names the sizes that follow a free sequence length (`studio.export.symbolic`) on the wires."""
        if symbols != self.symbols:
            self.symbols = symbols
            for edge, item in self.edges.items():
                item.set_label(self._edge_label(edge))

    # --- queries ----------------------------------------------------------------
    def port_at(self, pos: QPointF) -> tuple[str, str, str] | None:
        """(node id, "in"/"out", port) of the port at scene position `pos`, or None."""
        probe = QRectF(pos.x() - 12, pos.y() - 12, 24, 24)
        for item in self.items(probe):
            if isinstance(item, NodeItem):
                hit = item.port_at(item.mapFromScene(pos))
                if hit:
                    return (item.node_id, *hit)
        return None

    def node_at(self, pos: QPointF) -> str | None:
        """The id of the node card under `pos`, or None."""
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item.node_id
        return None

    def wire_at(self, pos: QPointF) -> Edge | None:
        """The wire under scene position `pos` (its curve or its shape label), or None."""
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return None  # a card lies over the wire here
            if isinstance(item, EdgeItem) and item.edge in self.edges:
                return item.edge
        return None

    def mark_drop_wire(self, edge: Edge | None) -> None:
        """Highlights the wire a dragged layer would be spliced into (None clears it)."""
        if self._drop_mark is not None and self._drop_mark.data(0) == edge:
            return  # the drag moved along the same wire
        if self._drop_mark is not None:
            self.removeItem(self._drop_mark)
            self._drop_mark = None
        item = self.edges.get(edge) if edge is not None else None
        if item is None:
            return
        self._drop_mark = drop_mark(edge, item)
        self.addItem(self._drop_mark)

    def show_groups(self, groups) -> None:
        """Draws a titled frame around each (title, node ids) group: the blocks expanded in place."""
        for frame in self.frames:
            self.removeItem(frame)
        self.frames = []
        for title, ids in groups:
            items = [self.nodes[i] for i in ids if i in self.nodes]
            if not items:
                continue
            rect = items[0].sceneBoundingRect()
            for item in items[1:]:
                rect = rect.united(item.sceneBoundingRect())
            frame = group_frame(title, rect)
            self.addItem(frame)
            self.frames.append(frame)

    def selected_node_ids(self) -> list[str]:
        """Ids of the selected nodes, in network order."""
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [nid for nid in self.network.nodes if nid in chosen]

    def selected_edges(self) -> list[Edge]:
        """The selected wires."""
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids) -> None:
        """Selects exactly these nodes."""
        wanted = set(node_ids)
        self.clearSelection()
        for nid in wanted:
            if nid in self.nodes:
                self.nodes[nid].setSelected(True)

    def items_rect(self) -> QRectF:
        """The rectangle around every node (with a margin)."""
        rect = self.itemsBoundingRect()
        return rect.adjusted(-40, -40, 40, 40) if not rect.isEmpty() else QRectF(-200, -150, 400, 300)

    # --- wiring by mouse -----------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.port_at(event.scenePos())
            if hit:
                nid, side, port = hit
                if side == "out":
                    self._wire = WireDrag(self, nid, port, None)
                    event.accept()
                    return
                edge = self.network.incoming(nid).get(port)
                if edge is not None:  # pick the wire up by its input end
                    self._wire = WireDrag(self, edge.src, edge.src_port, edge)
                    self.edges[edge].setVisible(False)
                    self._wire.follow(event.scenePos())
                    event.accept()
                    return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._wire is not None:
            self._wire.follow(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.mark_drop_wire(self._splice_target(event.scenePos(), event.modifiers()))

    def mouseReleaseEvent(self, event) -> None:
        if self._wire is not None:
            wire, self._wire = self._wire, None
            wire.finish(event.scenePos())
            event.accept()
            return
        target = self._splice_target(event.scenePos(), event.modifiers())
        dragged = self.mouseGrabberItem()
        super().mouseReleaseEvent(event)
        self.mark_drop_wire(None)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        moves = self._moves()
        if target is not None and dragged.node_id in moves:  # a click on a card over a wire moves nothing
            self.splice_requested.emit(dragged.node_id, target, moves, bool(self._by_node[dragged.node_id]))
        else:
            self._emit_moves()

    def _splice_target(self, pos: QPointF, modifiers) -> Edge | None:
        """The wire under `pos` that the one card being dragged would be spliced into on release, or None.

        As in Blender's and Node-RED's editors, a node without wires drops into
        a wire; one with wires only while Alt or Shift is held (it is detached first).
        """
        item = self.mouseGrabberItem()
        if not isinstance(item, NodeItem) or self.selected_node_ids() != [item.node_id]:
            return None
        own = self._by_node.get(item.node_id, set())
        if own and not modifiers & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier):
            return None
        try:
            splice_ports(self.network, self.network.nodes[item.node_id])
        except (GraphError, KeyError):  # an Input, an Output: nothing to splice
            return None
        for hit in self.items(pos):
            if isinstance(hit, NodeItem) and hit is not item:
                return None  # another card lies over the wire here
            if isinstance(hit, EdgeItem) and hit.edge in self.edges and hit.edge not in own:
                return hit.edge
        return None

    def _moves(self) -> dict:
        """{node id: (x, y)} of the cards the mouse moved away from their model position."""
        moved = {}
        for nid, item in self.nodes.items():
            p = (item.pos().x(), item.pos().y())
            node = self.network.nodes.get(nid)
            if node is not None and p != node.pos:
                moved[nid] = p
        return moved

    def _emit_moves(self) -> None:
        moved = self._moves()
        if moved:
            self.move_requested.emit(moved)

    def mouseDoubleClickEvent(self, event) -> None:
        nid = self.node_at(event.scenePos())
        if nid is None:
            self.quick_add_requested.emit(event.scenePos())
        elif self.network.nodes[nid].type == BLOCK_TYPE:
            self.open_block_requested.emit(nid)
        event.accept()
