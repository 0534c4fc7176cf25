"""Auto-layout: a layered (Sugiyama) drawing, data flowing one way.

`layered(network, direction)` gives every node a position so that data flows
top to bottom (`"down"`, the default, as Netron draws) or left to right
(`"right"`), never wrapping. The drawing is grandalf's Sugiyama layout: ranks
by longest path with sources pulled next to their first consumer, crossings
reduced by barycentre sweeps over dummy nodes on long edges, and Brandes–Köpf
coordinates, which line main chains up straight. Separate pieces of a network
(a GAN's two halves drawn in one network, a lone node) sit side by side.
See docs/architecture.md ("Auto-layout").
"""

from __future__ import annotations

from grandalf.graphs import Edge as GEdge
from grandalf.graphs import Vertex, graph_core
from grandalf.layouts import Layer, SugiyamaLayout

from studio.graph.network import Network

# Room a node card takes on the canvas (studio/ui/node_item.py draws it 176 wide, 54 tall, and a
# row of 17 more for each side's port names when a side has several ports; when data flows down,
# PORT_PITCH per port on a side with more than two).
NODE_W = 176.0
PORT_PITCH = 72.0
NODE_H = 54.0
NAME_ROW = 17.0
RANK_GAP = {"down": 56.0, "right": 110.0}  # between ranks: room for a wire's shape label ("N×2048×7×7")
SIBLING_GAP = 36.0  # between nodes of one rank
PIECE_GAP = 120.0  # between separate pieces
DIRECTIONS = ("down", "right")
FLOW_KEY = "flow"  # the project's metadata key for its direction of flow; absent means "down"


def flow_of(project) -> str:
    """The direction a project's networks flow in: "down" (the default) or "right"."""
    value = project.metadata.get(FLOW_KEY, "down")
    return value if value in DIRECTIONS else "down"


def lay_out_project(project) -> None:
    """Lays out every network and block of `project` in its direction of flow."""
    direction = flow_of(project)
    for net in project.all_networks():
        for nid, pos in layered(net, direction).items():
            net.move(nid, pos)


class _Box:
    """The size grandalf reads (`w`, `h`) and the centre it writes (`xy`)."""

    def __init__(self, w: float, h: float):
        self.w, self.h, self.xy = w, h, (0.0, 0.0)


def layered(network: Network, direction: str = "down") -> dict[str, tuple[float, float]]:
    """New top-left positions {node id: (x, y)}, data flowing `direction` ("down" or "right")."""
    if direction not in DIRECTIONS:
        raise ValueError(f"layout direction {direction!r}: use one of {', '.join(DIRECTIONS)}")
    across = direction == "right"
    order = network.topological_order()
    verts = {nid: Vertex(nid) for nid in order}
    for nid, v in verts.items():
        # grandalf lays ranks out top to bottom; for left to right it lays out the transposed boxes.
        w, h = node_size(network, nid, direction)
        v.view = _Box(h, w) if across else _Box(w, h)
    out: dict[str, tuple[float, float]] = {}
    offset = 0.0
    for ids in _pieces(network, order):
        edges = [GEdge(verts[e.src], verts[e.dst]) for nid in ids for e in network.outgoing(nid)]
        placed = _lay_piece(graph_core([verts[i] for i in ids], edges), RANK_GAP[direction])
        left = min(x - v.view.w / 2 for v, (x, _) in placed.items())
        right = max(x + v.view.w / 2 for v, (x, _) in placed.items())
        for v, (x, y) in placed.items():
            cx, cy = x - left + offset, y - v.view.h / 2
            out[v.data] = (cy, cx - v.view.w / 2) if across else (cx - v.view.w / 2, cy)
        offset += right - left + PIECE_GAP
    return {nid: (round(x, 1), round(y, 1)) for nid, (x, y) in out.items()}


def node_size(network: Network, node_id: str, direction: str = "down") -> tuple[float, float]:
    """(width, height) of a node's card on the canvas."""
    try:
        ins, outs = network.ports(network.nodes[node_id])
    except Exception:  # a block whose definition is gone shows a card without ports
        ins, outs = (), ()
    if direction == "down":
        return max(NODE_W, PORT_PITCH * max(len(ins), len(outs))), NODE_H + NAME_ROW * ((len(ins) > 1) + (len(outs) > 1))
    rows = max(len(ins), len(outs))
    return NODE_W, (NODE_H - 2 + rows * NAME_ROW) if rows > 1 else NODE_H


def _pieces(network: Network, order: list[str]) -> list[list[str]]:
    """The connected pieces of the network, each in topological order, by their first node."""
    root = {nid: nid for nid in order}

    def find(n: str) -> str:
        while root[n] != n:
            root[n] = root[root[n]]
            n = root[n]
        return n
    for e in network.edges:
        root[find(e.src)] = find(e.dst)
    pieces: dict[str, list[str]] = {}
    for nid in order:
        pieces.setdefault(find(nid), []).append(nid)
    return list(pieces.values())


class _Layer(Layer):
    """grandalf's Layer compares layers element by element when it looks itself up: quadratic on
    a 600-rank chain. Layers are distinct objects, so identity is the equality it needs."""

    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__


class _Sugiyama(SugiyamaLayout):
    """grandalf's Sugiyama layout with `_Layer`s."""

    def setrank(self, v):
        r = max([self.grx[x].rank for x in v.N(-1)] + [-1]) + 1
        self.grx[v].rank = r
        if r < len(self.layers):
            self.layers[r].append(v)
        else:
            self.layers.append(_Layer([v]))


def _lay_piece(piece, rank_gap: float) -> dict:
    """Centres {vertex: (x, y)} of one connected piece, ranks growing downwards."""
    if len(piece.sV) == 1:
        return {piece.sV[0]: (0.0, 0.0)}
    sug = _Sugiyama(piece)
    sug.xspace, sug.yspace = SIBLING_GAP, rank_gap
    roots = [v for v in piece.sV if not v.e_in()]
    sug.init_all(roots=roots, inverted_edges=[], optimize=True)
    sug.draw(3)
    return {v: v.view.xy for v in piece.sV}
