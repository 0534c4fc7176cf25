"""Wire edits composed of the network primitives: splice a layer into a wire, replace a wire.

`insert_on_wire` adds a layer on an existing wire: the old wire goes, the
source feeds the new layer's first required input and its first output feeds
the old destination; nodes downstream are pushed along the flow when there
is no room between the two ends. `splice` does the same with a node already
in the network (one dragged onto a wire), and `detach` first takes a node out
of its wires, joining its source to what it fed. `wire` connects an output to an input and,
when the input is already taken, removes the old wire first. Both use only
`Network` primitives, so one recorded change undoes either
(`studio.graph.history`, docs/architecture.md "Where to add things").
"""

from __future__ import annotations

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.errors import GraphError
from studio.graph.network import Edge, Network, Node

# How far apart neighbouring nodes stand along the flow (x, y): a card (132 wide, heights vary with
# ports) plus a gap that leaves the wire's shape label readable, as the presets space them.
STEP = {0: 230.0, 1: 130.0}


def splice_ports(network: Network, node: Node) -> tuple[str, str]:
    """(input, output) port of `node` that a spliced wire uses: the first required input, the first output."""
    ins, outs = network.ports(node)
    optional = () if node.type == BLOCK_TYPE else catalog.get(node.type).optional
    required = [p for p in ins if p not in optional] or list(ins)
    if not required or not outs:
        raise GraphError(f"{node.type} '{node.name}' has no {'input' if not required else 'output'}, "
                         f"so it cannot go on a wire")
    return required[0], outs[0]


def insert_on_wire(network: Network, edge: Edge, type_name: str, params: dict | None = None,
                   name: str | None = None) -> str:
    """Adds a layer of `type_name` on the wire `edge` and returns its id.

    Raises:
        GraphError: no such wire, or the layer has no input or no output.
    """
    if edge not in network.edges:
        raise GraphError(f"network '{network.name}' has no such wire: {edge}")
    nid = network.add_node(type_name, name, params)
    splice(network, edge, nid)
    return nid


def splice(network: Network, edge: Edge, node_id: str) -> None:
    """Puts node `node_id` (one without wires on the ports it uses) on the wire `edge`, between its ends.

    Raises:
        GraphError: no such wire, the node is one of its ends, it has no input or output, or it would make a cycle.
    """
    if edge not in network.edges:
        raise GraphError(f"network '{network.name}' has no such wire: {edge}")
    node = network.node(node_id)
    if node_id in (edge.src, edge.dst):
        raise GraphError(f"'{node.name}' is an end of that wire already")
    in_port, out_port = splice_ports(network, node)
    _place_between(network, edge, node_id)
    network.disconnect(edge)
    network.connect(edge.src, edge.src_port, node_id, in_port)
    network.connect(node_id, out_port, edge.dst, edge.dst_port)


def detach(network: Network, node_id: str) -> None:
    """Removes every wire of node `node_id`; when one wire fed it, its source now feeds what the node fed.

    This is how node editors (Blender's Alt-drag) take a node out of a chain without breaking the chain.
    """
    fed = list(network.incoming(node_id).values())
    out = list(network.outgoing(node_id))
    for e in fed + out:
        network.disconnect(e)
    if len(fed) == 1:
        src = fed[0]
        for e in out:
            bridge = Edge(src.src, src.src_port, e.dst, e.dst_port)
            if network.why_not_connect(bridge) is None:
                network.connect(bridge.src, bridge.src_port, bridge.dst, bridge.dst_port)


def _place_between(network: Network, edge: Edge, node_id: str) -> None:
    """Moves node `node_id` one step after the wire's source, pushing what follows on when it does not fit."""
    a, b = network.node(edge.src).pos, network.node(edge.dst).pos
    axis = 0 if abs(b[0] - a[0]) >= abs(b[1] - a[1]) else 1
    _make_room(network, edge, axis)
    pos = list(a)
    pos[axis] += STEP[axis]
    pos[1 - axis] = (a[1 - axis] + b[1 - axis]) / 2
    network.move(node_id, tuple(pos))


def _make_room(network: Network, edge: Edge, axis: int) -> None:
    """Pushes the destination and what lies after it along `axis` until one more card fits between the ends."""
    a, b = network.node(edge.src).pos, network.node(edge.dst).pos
    short = a[axis] + 2 * STEP[axis] - b[axis]
    if short <= 0:
        return
    start = b[axis]
    for nid in network.downstream([edge.dst]):
        pos = list(network.node(nid).pos)
        if pos[axis] >= start:
            pos[axis] += short
            network.move(nid, tuple(pos))


def why_not_wire(network: Network, edge: Edge) -> str | None:
    """Why `edge` cannot be made by `wire` (a taken input is fine: its old wire goes), or None."""
    old = network.incoming(edge.dst).get(edge.dst_port)
    if old is None:
        return network.why_not_connect(edge)
    if old == edge:
        return None
    a, b = network.node(edge.src), network.node(edge.dst)
    if edge.src_port not in network.ports(a)[1]:
        return f"'{a.name}' has no output port '{edge.src_port}'"
    if network.reaches(edge.dst, edge.src):
        return f"connecting '{a.name}' to '{b.name}' would make a cycle"
    return None


def wire(network: Network, edge: Edge) -> Edge:
    """Connects `edge`, first removing the wire that already feeds its input, if any."""
    problem = why_not_wire(network, edge)
    if problem:
        raise GraphError(problem)
    old = network.incoming(edge.dst).get(edge.dst_port)
    if old == edge:
        return edge
    if old is not None:
        network.disconnect(old)
    return network.connect(edge.src, edge.src_port, edge.dst, edge.dst_port)
