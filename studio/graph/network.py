"""A `Network`: nodes and edges, a few mutation primitives, and events after each.

Every change a user can make is composed of seven primitives: `add_node`,
`remove_node`, `connect`, `disconnect`, `set_params`, `rename`, `move`. Each
one checks its input, changes the state, bumps `revision`, and only then
emits a past-tense event with plain values. Changing the network from inside
an event callback is refused (GraphError), so listeners always see a
consistent state.

Node ids are strings that never change; names are unique within a network
and are what users and generated code see. The questions asked of a network
(ports, sources, order, reachability, the invariants) are its base class's,
`studio.graph.topology.Topology`; what a name or a parameter may be is
`studio.graph.node_params`.
"""

from __future__ import annotations

import copy
import re

from psygnal import Signal

from studio.errors import GraphError
from studio.graph.node_params import check_block_params, check_name, checked_params, is_plain_value, keeps_none
from studio.graph.topology import Edge, Node, PortResolver, Topology, edge_key

__all__ = ["Edge", "Network", "Node", "check_block_params", "check_name", "is_plain_value"]


class Network(Topology):
    """A graph of layers.

    Events (psygnal signals, sent after the change):
        node_added(id: str)
        node_removed(node: Node, index: int)  -- a copy of the removed node, and where it stood in `nodes`
        edge_added(edge: Edge)
        edge_removed(edge: Edge)
        params_changed(id: str, old: dict, new: dict)
        node_renamed(id: str, old: str, new: str)
        node_moved(id: str, old: tuple, new: tuple)
    """

    node_added = Signal(str)
    node_removed = Signal(object, int)
    edge_added = Signal(object)
    edge_removed = Signal(object)
    params_changed = Signal(str, dict, dict)
    node_renamed = Signal(str, str, str)
    node_moved = Signal(str, tuple, tuple)

    def __init__(self, name: str = "main", block_ports: PortResolver | None = None):
        super().__init__(name, block_ports)
        self._lowest_free: dict[str, int] = {}      # unique_name's prefix -> no lower number is free
        self._next_id = 1
        self._emitting = False

    def unique_name(self, base: str) -> str:
        """`base` made a legal, unused name: conv, conv2, conv3 (the lowest free number)..."""
        base = re.sub(r"\W+", "_", base).strip("_") or "node"
        if base[0].isdigit():
            base = "n_" + base
        used = self._names
        if base not in used:
            return base
        stem = re.sub(r"_?\d+$", "", base) or base
        prefix = stem + ("_" if any(ch.isdigit() for ch in stem) else "")  # conv2d_2 reads better than conv2d2
        # Every number below the remembered one is taken (see _freed), so adding n
        # unnamed nodes tries each number once instead of 2..k for the k-th node.
        i = self._lowest_free.get(prefix, 2)
        while f"{prefix}{i}" in used:
            i += 1
        self._lowest_free[prefix] = i
        return f"{prefix}{i}"

    # --- primitives ------------------------------------------------------
    def add_node(self, type: str, name: str | None = None, params: dict | None = None,
                 pos: tuple[float, float] = (0.0, 0.0), id: str | None = None, index: int | None = None) -> str:
        """Adds a node and returns its id. Parameters are checked against the catalog.

        `index` puts it at that place in `nodes` (undoing a removal), else it comes last.
        """
        self._guard()
        if id is not None and id in self.nodes:
            raise GraphError(f"network '{self.name}' already has a node with id '{id}'")
        if name is not None:
            check_name(name)
            if name in self._names:
                raise GraphError(f"network '{self.name}' already has a node named '{name}'")
        params = checked_params(type, dict(params or {}), name or type)
        node_id = id or self._new_id()
        node = Node(node_id, type, name or self.unique_name(type.lower()), params, _pos(pos))
        self.ports(node)  # a block that does not exist fails here, before anything changes
        self.nodes[node_id] = node
        if index is not None and index < len(self.nodes) - 1:
            order = list(self.nodes.items())
            order.insert(index, order.pop())
            self.nodes.clear()  # in place: views hold this dict
            self.nodes.update(order)
        self._names[node.name] = node_id
        self._changed(structure=True)
        self._emit(self.node_added, node_id)
        return node_id

    def remove_node(self, node_id: str) -> Node:
        """Removes a node, first disconnecting its edges (one event each)."""
        self._guard()
        node = self.node(node_id)
        attached = set(self._in.get(node_id, {}).values()) | self._out.get(node_id, set())
        for edge in sorted(attached, key=edge_key):
            self.disconnect(edge)
        index = list(self.nodes).index(node_id)
        del self.nodes[node_id]
        del self._names[node.name]
        self._freed(node.name)
        self._in.pop(node_id, None)
        self._out.pop(node_id, None)
        self._changed(structure=True)
        self._emit(self.node_removed, copy.deepcopy(node), index)
        return node

    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> Edge:
        """Wires an output port to an input port; refuses unknown ports, a taken input and cycles."""
        self._guard()
        edge = Edge(src, src_port, dst, dst_port)
        problem = self.why_not_connect(edge)
        if problem:
            raise GraphError(problem)
        self.edges.add(edge)
        self._in.setdefault(edge.dst, {})[edge.dst_port] = edge
        self._out.setdefault(edge.src, set()).add(edge)
        self._changed(structure=True)
        self._emit(self.edge_added, edge)
        return edge

    def why_not_connect(self, edge: Edge) -> str | None:
        """The reason this edge cannot be added, or None when it can."""
        a, b = self.node(edge.src), self.node(edge.dst)
        if edge.src_port not in self.ports(a)[1]:
            return f"'{a.name}' has no output port '{edge.src_port}'"
        if edge.dst_port not in self.ports(b)[0]:
            return f"'{b.name}' has no input port '{edge.dst_port}'"
        if edge.dst_port in self._in.get(edge.dst, {}):
            return f"input '{edge.dst_port}' of '{b.name}' is already connected; disconnect it first"
        if self.reaches(edge.dst, edge.src):
            return f"connecting '{a.name}' to '{b.name}' would make a cycle"
        return None

    def disconnect(self, edge: Edge) -> None:
        """Removes a wire."""
        self._guard()
        if edge not in self.edges:
            raise GraphError(f"network '{self.name}' has no such connection: {edge}")
        self.edges.remove(edge)
        del self._in[edge.dst][edge.dst_port]
        self._out[edge.src].discard(edge)
        self._changed(structure=True)
        self._emit(self.edge_removed, edge)

    def set_params(self, node_id: str, changes: dict) -> None:
        """Sets parameters (a value of None restores the default); wires to ports that vanish are removed."""
        self._guard()
        node = self.node(node_id)
        old = dict(node.params)
        new = {**old, **changes}
        new = {k: v for k, v in new.items() if v is not None or keeps_none(node, k)}
        new = checked_params(node.type, new, node.name)
        if new == old:
            return
        trial = Node(node.id, node.type, node.name, new, node.pos)
        ins, outs = self.ports(trial)
        attached = set(self._in.get(node_id, {}).values()) | self._out.get(node_id, set())
        for edge in sorted(attached, key=edge_key):
            if (edge.dst == node_id and edge.dst_port not in ins) or (edge.src == node_id and edge.src_port not in outs):
                self.disconnect(edge)
        node.params = new
        self._changed()
        self._emit(self.params_changed, node_id, old, dict(new))

    def rename(self, node_id: str, name: str) -> None:
        """Renames a node; the name must be unique and start with a letter."""
        self._guard()
        node = self.node(node_id)
        check_name(name)
        if name == node.name:
            return
        if name in self._names:
            raise GraphError(f"network '{self.name}' already has a node named '{name}'")
        old, node.name = node.name, name
        self._names[name] = self._names.pop(old)
        self._freed(old)
        self._changed()
        self._emit(self.node_renamed, node_id, old, name)

    def move(self, node_id: str, pos: tuple[float, float]) -> None:
        """Moves a node on the canvas."""
        self._guard()
        node = self.node(node_id)
        new = _pos(pos)
        if new == node.pos:
            return
        old, node.pos = node.pos, new
        self.revision += 1  # positions do not affect analysis, but saved files differ
        self._emit(self.node_moved, node_id, old, new)


    # --- internals ------------------------------------------------------
    def _freed(self, name: str) -> None:
        """A name became free: unique_name may hand out its number again."""
        m = re.fullmatch(r"(.*?)(\d+)", name)  # a prefix never ends in a digit
        if m and m[1] in self._lowest_free:
            self._lowest_free[m[1]] = min(self._lowest_free[m[1]], int(m[2]))

    def _new_id(self) -> str:
        while f"n{self._next_id}" in self.nodes:
            self._next_id += 1
        self._next_id += 1
        return f"n{self._next_id - 1}"

    def _guard(self) -> None:
        if self._emitting:
            raise GraphError("a network cannot be changed from inside one of its own event callbacks")

    def _changed(self, structure: bool = False) -> None:
        self.revision += 1
        self.structure_revision += structure

    def _emit(self, signal, *args) -> None:
        self._emitting = True
        try:
            signal.emit(*args)
        finally:
            self._emitting = False



def _pos(pos) -> tuple[float, float]:
    x, y = pos
    return (float(x), float(y))
