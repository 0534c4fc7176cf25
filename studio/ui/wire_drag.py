"""`WireDrag`: a wire being drawn on the canvas, from an output port or picked up by its input end.

While the mouse is down the wire follows it and every input that would
accept it is marked; on release `finish` turns the drop into one of the
scene's requests (connect, reconnect, disconnect) or a status message saying
why it was refused. The drag never changes the network itself
(`NetworkScene` and `ui/editor.py` make the edit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF

from studio.graph import Edge
from studio.graph.wiring import why_not_wire
from studio.ui.edge_item import PendingWire

if TYPE_CHECKING:
    from studio.ui.scene import NetworkScene


class WireDrag:
    """A wire from output ``port`` of ``node_id`` in ``scene``; ``picked`` is the wire whose input end it moves."""

    def __init__(self, scene: NetworkScene, node_id: str, port: str, picked: Edge | None):
        self.scene = scene
        self.source, self.picked = (node_id, port), picked
        self.pending = PendingWire(scene.nodes[node_id].port_scene_pos("out", port))
        scene.addItem(self.pending)
        # Mark every input that would accept this wire, so the user sees where it can go.
        for nid, item in scene.nodes.items():
            marks = {}
            for p in item.look.inputs:
                edge = Edge(node_id, port, nid, p)
                if edge == picked or self.reason(edge) is None:
                    marks[p] = "valid"
            item.set_marks(marks)

    def follow(self, pos: QPointF) -> None:
        """Bends the wire to end at scene position ``pos``."""
        self.pending.follow(pos)

    def reason(self, edge: Edge) -> str | None:
        """Why ``edge`` cannot be wired, or None when it can."""
        picked = self.picked
        if picked is not None and (edge.dst, edge.dst_port) == (picked.dst, picked.dst_port):
            return None if edge.src != edge.dst else "a node cannot feed itself"
        try:
            return why_not_wire(self.scene.network, edge)
        except Exception as e:  # a vanished node: refuse quietly
            return str(e)

    def finish(self, pos: QPointF) -> None:
        """The mouse let go at ``pos``: the marks go, and the drop becomes a request of the scene."""
        scene, (src, port), picked = self.scene, self.source, self.picked
        scene.removeItem(self.pending)
        for item in scene.nodes.values():
            item.set_marks({})
        if picked is not None and picked in scene.edges:
            scene.edges[picked].setVisible(True)
        hit = scene.port_at(pos)
        if hit is None or hit[1] != "in":
            if picked is not None:
                scene.disconnect_requested.emit(picked)
            elif hit is not None:
                scene.status_message.emit("drop the wire on an input port (the left side of a node)")
            return
        edge = Edge(src, port, hit[0], hit[2])
        if edge == picked:
            return
        reason = self.reason(edge)
        if reason:
            scene.status_message.emit(f"cannot connect: {reason}")
        elif picked is not None:
            scene.reconnect_requested.emit(picked, edge)
        else:
            scene.connect_requested.emit(edge)
