"""`Topology`: a network's nodes and wires, indexed, and every question asked of them.

A node's ports, the sources of its inputs, the edges in and out, a stable
topological order, what lies downstream, whether one node reaches another, and
`check`, the invariants. Nothing here changes the graph: `Network`
(`studio.graph.network`) subclasses it with the seven mutation primitives and
their events, and keeps these indexes up to date.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from studio import catalog
from studio.catalog import BLOCK_TYPE
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


class Topology:
    """The nodes and edges of one network, indexed for the questions analysis, compiling and views ask.

    Attributes:
        name: the network's name.
        nodes: node id -> `Node`, in the order they were added.
        edges: every wire.
        revision: counts every change (a subclass's primitives bump it);
            ``structure_revision`` only those that add or remove nodes or
            edges, which the cached topological order keys on.
    """

    def __init__(self, name: str = "main", block_ports: PortResolver | None = None):
        self.name = name
        self.nodes: dict[str, Node] = {}
        self.edges: set[Edge] = set()
        self._in: dict[str, dict[str, Edge]] = {}   # node id -> input port -> edge
        self._out: dict[str, set[Edge]] = {}        # node id -> edges leaving it
        self._names: dict[str, str] = {}            # node name -> node id
        self.revision = 0
        self.structure_revision = 0  # changes only when nodes or edges come or go
        self._block_ports = block_ports
        self._order_cache: tuple[int, list[str]] | None = None

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
        return sorted(self._out.get(node_id, ()), key=edge_key)

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


def edge_key(e: Edge) -> tuple[str, str, str, str]:
    """The order edges are listed in: by source, then destination (stable across runs)."""
    return (e.src, e.src_port, e.dst, e.dst_port)
