"""Wire edits composed of the network primitives: splice a layer into a wire, replace a wire.

`insert_on_wire` adds a layer on an existing wire: the old wire goes, the
source feeds the new layer's first required input and its first output feeds
the old destination; nodes downstream are pushed along the flow when there
is no room between the two ends. `wire` connects an output to an input and,
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
    a, b = network.node(edge.src).pos, network.node(edge.dst).pos
    axis = 0 if abs(b[0] - a[0]) >= abs(b[1] - a[1]) else 1
    _make_room(network, edge, axis)
    pos = list(a)
    pos[axis] += STEP[axis]
    pos[1 - axis] = (a[1 - axis] + b[1 - axis]) / 2
    nid = network.add_node(type_name, name, params, tuple(pos))
    in_port, out_port = splice_ports(network, network.node(nid))
    network.disconnect(edge)
    network.connect(edge.src, edge.src_port, nid, in_port)
    network.connect(nid, out_port, edge.dst, edge.dst_port)
    return nid


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
