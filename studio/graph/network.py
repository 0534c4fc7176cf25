"""A `Network`: nodes and edges, a few mutation primitives, and events after each.

Every change a user can make is composed of seven primitives: `add_node`,
`remove_node`, `connect`, `disconnect`, `set_params`, `rename`, `move`. Each
one checks its input, changes the state, bumps `revision`, and only then
emits a past-tense event with plain values. Changing the network from inside
an event callback is refused (GraphError), so listeners always see a
consistent state.

Node ids are strings that never change; names are unique within a network
and are what users and generated code see.
"""

from __future__ import annotations

import copy
import heapq
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from psygnal import Signal

from studio import catalog
from studio.catalog import BLOCK_TYPE, check_value, is_expression
from studio.errors import GraphError

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class Node:
    """One layer (or block instance) on the canvas. `params` holds only what the user set."""

    id: str
    type: str
    name: str
    params: dict = field(default_factory=dict)
    pos: tuple[float, float] = (0.0, 0.0)

    @property
    def role(self) -> str:
        """"input" or "output" for a network's ends, else "layer" (see `LayerSpec.role`)."""
        return catalog.role(self.type)


@dataclass(frozen=True)
class Edge:
    """A wire from an output port to an input port."""

    src: str
    src_port: str
    dst: str
    dst_port: str


PortResolver = Callable[[Node], tuple[tuple[str, ...], tuple[str, ...]]]


class Network:
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
        self.name = name
        self.nodes: dict[str, Node] = {}
        self.edges: set[Edge] = set()
        self._in: dict[str, dict[str, Edge]] = {}   # node id -> input port -> edge
        self._out: dict[str, set[Edge]] = {}        # node id -> edges leaving it
        self._names: dict[str, str] = {}            # node name -> node id
        self._lowest_free: dict[str, int] = {}      # unique_name's prefix -> no lower number is free
        self.revision = 0
        self.structure_revision = 0  # changes only when nodes or edges come or go
        self._next_id = 1
        self._emitting = False
        self._block_ports = block_ports
        self._order_cache: tuple[int, list[str]] | None = None

    # --- queries ---------------------------------------------------------
    def node(self, node_id: str) -> Node:
        """The node with this id; GraphError if there is none."""
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"network '{self.name}' has no node with id '{node_id}'") from None

    def by_name(self, name: str) -> Node:
        """The node called `name`; GraphError if there is none."""
        if name in self._names:
            return self.nodes[self._names[name]]
        raise GraphError(f"network '{self.name}' has no node named '{name}'")

    def ports(self, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(input ports, output ports) of a node."""
        if node.type == BLOCK_TYPE:
            if self._block_ports is None:
                raise GraphError(f"'{node.name}' is a block, but network '{self.name}' belongs to no project")
            return self._block_ports(node)
        spec = catalog.get(node.type)
        params = spec.with_defaults(node.params)
        return spec.input_ports(params), spec.output_ports(params)

    def incoming(self, node_id: str) -> dict[str, Edge]:
        """The edges into a node, keyed by input port."""
        return dict(self._in.get(node_id, {}))

    def input_sources(self, node: Node) -> dict[str, tuple[str, int] | None]:
        """Each input port of `node` -> (source node id, index of the source's output port).

        An unconnected optional port takes the source of the port its spec
        names as fallback (attention's ``key`` is its ``query``); a port with
        no source at all maps to None. Shape analysis and compiling both read
        a node's inputs through this, so they cannot disagree.
        """
        ins = self.ports(node)[0]
        incoming = self.incoming(node.id)
        found: dict[str, tuple[str, int] | None] = {}
        for port in ins:
            edge = incoming.get(port)
            found[port] = None if edge is None else (edge.src, self.ports(self.node(edge.src))[1].index(edge.src_port))
        spec = None if node.type == BLOCK_TYPE else catalog.get(node.type)
        for port in ins:
            fallback = spec.fallback.get(port) if spec and port in spec.optional else None
            if found[port] is None and fallback is not None:
                found[port] = found.get(fallback)
        return found

    def outgoing(self, node_id: str) -> list[Edge]:
        """The edges out of a node."""
        return sorted(self._out.get(node_id, ()), key=_edge_key)

    def reaches(self, start: str, goal: str) -> bool:
        """True when a path of edges leads from `start` to `goal` (or they are the same node)."""
        stack, seen = [start], {start}
        while stack:
            nid = stack.pop()
            if nid == goal:
                return True
            for e in self._out.get(nid, ()):
                if e.dst not in seen:
                    seen.add(e.dst)
                    stack.append(e.dst)
        return False

    def digraph(self) -> nx.MultiDiGraph:
        """The network as a networkx graph (node ids; edges keyed by ports)."""
        import networkx as nx  # here, not at the top: importing it costs the `studio` command ~0.2 s

        g = nx.MultiDiGraph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from((e.src, e.dst, (e.src_port, e.dst_port)) for e in self.edges)
        return g

    def topological_order(self) -> list[str]:
        """Node ids, every node after its inputs; stable for equal graphs. Cached per structure."""
        if self._order_cache and self._order_cache[0] == self.structure_revision:
            return self._order_cache[1]
        # Kahn's algorithm, taking ready nodes in insertion order so equal graphs give equal orders.
        rank = {nid: i for i, nid in enumerate(self.nodes)}
        waiting = {nid: len(self._in.get(nid, {})) for nid in self.nodes}
        ready = [rank[nid] for nid, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        ids = list(self.nodes)
        order = []
        while ready:
            nid = ids[heapq.heappop(ready)]
            order.append(nid)
            for e in self._out.get(nid, ()):
                waiting[e.dst] -= 1
                if waiting[e.dst] == 0:
                    heapq.heappush(ready, rank[e.dst])
        self._order_cache = (self.structure_revision, order)
        return order

    def downstream(self, node_ids) -> set[str]:
        """The given nodes and everything that depends on them."""
        stack, seen = list(node_ids), set(node_ids)
        while stack:
            for e in self._out.get(stack.pop(), ()):
                if e.dst not in seen:
                    seen.add(e.dst)
                    stack.append(e.dst)
        return seen

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
        params = self._checked_params(type, dict(params or {}), name or type)
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
        for edge in sorted(attached, key=_edge_key):
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
        new = {k: v for k, v in new.items() if v is not None or self._keeps_none(node, k)}
        new = self._checked_params(node.type, new, node.name)
        if new == old:
            return
        trial = Node(node.id, node.type, node.name, new, node.pos)
        ins, outs = self.ports(trial)
        attached = set(self._in.get(node_id, {}).values()) | self._out.get(node_id, set())
        for edge in sorted(attached, key=_edge_key):
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

    # --- invariants -----------------------------------------------------
    def check(self) -> None:
        """Asserts the invariants: ids match, names unique, edges on real ports, one edge per input, acyclic."""
        names = [n.name for n in self.nodes.values()]
        assert len(names) == len(set(names)), f"duplicate names in {self.name}"
        assert self._names == {n.name: n.id for n in self.nodes.values()}, "name index out of date"
        for nid, n in self.nodes.items():
            assert n.id == nid, f"node id mismatch {nid}"
        seen_inputs = set()
        for e in self.edges:
            assert e.src in self.nodes and e.dst in self.nodes, f"dangling edge {e}"
            assert e.src_port in self.ports(self.nodes[e.src])[1], f"bad output port {e}"
            assert e.dst_port in self.ports(self.nodes[e.dst])[0], f"bad input port {e}"
            assert (e.dst, e.dst_port) not in seen_inputs, f"two edges into {e.dst}.{e.dst_port}"
            seen_inputs.add((e.dst, e.dst_port))
        import networkx as nx

        assert nx.is_directed_acyclic_graph(self.digraph()), f"cycle in {self.name}"
        assert sum(len(v) for v in self._in.values()) == len(self.edges), "input index out of date"
        assert sum(len(v) for v in self._out.values()) == len(self.edges), "output index out of date"

    def inputs(self) -> list[Node]:
        """The Input nodes, in the order they were added (a block's port order)."""
        return [n for n in self.nodes.values() if n.role == "input"]

    def outputs(self) -> list[Node]:
        """The Output nodes, in the order they were added (a block's port order)."""
        return [n for n in self.nodes.values() if n.role == "output"]

    def iter_nodes(self) -> Iterator[Node]:
        """Nodes in topological order."""
        return (self.nodes[i] for i in self.topological_order())

    # --- internals ------------------------------------------------------
    def _checked_params(self, type_name: str, params: dict, where: str) -> dict:
        if type_name == BLOCK_TYPE:
            return check_block_params(params, where)
        spec = catalog.get(type_name)
        out = {}
        for key, value in params.items():
            p = _settable(spec, key, where)
            if is_expression(value):
                out[key] = value
                continue
            try:
                out[key] = check_value(p, value)
            except ValueError as e:
                raise GraphError(f"{type_name} '{where}': {e}") from None
        return out

    def _keeps_none(self, node: Node, key: str) -> bool:
        if node.type == BLOCK_TYPE:
            return False
        p = catalog.get(node.type).param(key)
        return p.kind.startswith("optional_") and p.default is not None

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


def _settable(spec, key: str, where: str):
    try:
        p = spec.param(key)
    except Exception:
        raise GraphError(f"{spec.type} '{where}' has no parameter '{key}'") from None
    if p.inferred:
        raise GraphError(f"{spec.type} '{where}': '{key}' follows from the input shape and cannot be set")
    return p


def check_name(name) -> None:
    """GraphError unless `name` is a legal node name: letters, digits and _, starting with a letter or _."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise GraphError(f"{name!r:.60} is not a valid name: use letters, digits and _, starting with a letter")


def check_block_params(params: dict, where: str) -> dict:
    """The parameters of a Block node, checked (`repeat` a whole number from 1 to 1000); GraphError if not.

    Analysis calls it again with every ``$expression`` evaluated, so a computed
    `repeat` meets the same limits as a typed one.
    """
    if not isinstance(params.get("block"), str):
        raise GraphError(f"block '{where}' needs a 'block' parameter naming its definition")
    repeat = params.get("repeat", 1)
    ok = is_expression(repeat) or (isinstance(repeat, int) and not isinstance(repeat, bool) and 1 <= repeat <= 1000)
    if not ok:
        raise GraphError(f"block '{where}': 'repeat' must be a whole number from 1 to 1000, got {repeat!r:.40}")
    for key, value in params.items():
        if key != "block" and not (is_plain_value(value) or value is None):
            raise GraphError(f"block '{where}': parameter '{key}' must be a number, a text or an expression")
    return params


def is_plain_value(value) -> bool:
    """True for what a block parameter may hold: a whole number, a finite float, true/false or a text."""
    return isinstance(value, (int, str)) or (isinstance(value, float) and math.isfinite(value))


def _pos(pos) -> tuple[float, float]:
    x, y = pos
    return (float(x), float(y))


def _edge_key(e: Edge):
    return (e.src, e.src_port, e.dst, e.dst_port)
