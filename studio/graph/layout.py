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
from studio.graph.summary import type_label

# Room a node card takes on the canvas (studio/ui/node_item.py draws it 176 wide, 54 tall, and a
# row of 17 more for each side's port names when a side has several ports; when data flows down,
# PORT_PITCH per port on a side with more than two).
NODE_W = 176.0
PORT_PITCH = 72.0
NODE_H = 54.0
NAME_ROW = 17.0
# A card is wider when its name or its ports' names need it (`card_width`), up to MAX_NODE_W, past which
# the card elides a name and its tooltip gives it whole. The canvas measures the text with its font; the
# layout, which has no font, estimates it from these upper bounds per character of the usual UI font.
TITLE_CHAR_W = 10.5  # the card's bold title
SMALL_CHAR_W = 8.0   # the type line and port names
TEXT_MARGIN = 34.0   # left of the title, and right of it the frozen mark
NAME_GAP = 12.0      # between the names of neighbouring ports
MAX_NODE_W = 360.0
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
    """(width, height) of a node's card on the canvas (its text's width estimated, see `card_width`)."""
    node = network.nodes[node_id]
    try:
        ins, outs = network.ports(node)
    except Exception:  # a block whose definition is gone shows a card without ports
        ins, outs = (), ()
    width = card_width(direction, node.name, type_label(node), ins, outs,
                       lambda text: TITLE_CHAR_W * len(text), lambda text: SMALL_CHAR_W * len(text))
    if direction == "down":
        return width, NODE_H + NAME_ROW * ((len(ins) > 1) + (len(outs) > 1))
    rows = max(len(ins), len(outs))
    return width, (NODE_H - 2 + rows * NAME_ROW) if rows > 1 else NODE_H


def card_width(direction: str, name: str, kind: str, ins, outs, title_w, small_w) -> float:
    """A card's width: room for its title, type line and port names, from NODE_W up to MAX_NODE_W.

    Args:
        direction: "down" (port names side by side in a row) or "right" (inputs left, outputs right).
        name, kind: the title and the type line.
        ins, outs: the port names (written only on a side with several, or flowing right on both sides).
        title_w, small_w: text -> width in pixels, in the title's and the small font.
    """
    width = max(NODE_W, title_w(name) + TEXT_MARGIN, small_w(kind) + TEXT_MARGIN)
    if direction == "down":
        for ports in (ins, outs):
            if len(ports) > 1:  # one slot per port, its name centred under the port
                width = max(width, len(ports) * max(PORT_PITCH, max(map(small_w, ports)) + NAME_GAP + 1))
    elif len(ins) > 1 or len(outs) > 1:  # an input's name and an output's share each row
        width = max(width, 2 * (max(map(small_w, (*ins, *outs))) + NAME_GAP + 1))
    return min(width, MAX_NODE_W)


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
