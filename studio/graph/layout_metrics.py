"""How readable a layout is, in numbers: wires against the flow, wire crossings, overlapping nodes.

Used by the tests (presets must have no back edges and no overlaps) and by
`bench/editor.py`. Nodes are boxes of `layout.node_size`; a wire
is the straight segment from its source's outgoing side to its target's
incoming side, which is what the canvas's curve follows closely enough to count
crossings.
"""

from __future__ import annotations

from itertools import combinations

from studio.graph.layout import node_size
from studio.graph.network import Network

Point = tuple[float, float]


def back_edges(network: Network, direction: str = "down") -> int:
    """Wires whose target is not past its source in the direction of flow."""
    axis = 1 if direction == "down" else 0
    return sum(1 for e in network.edges
               if network.nodes[e.dst].pos[axis] <= network.nodes[e.src].pos[axis])


def overlaps(network: Network, direction: str = "down") -> int:
    """Pairs of node cards that overlap."""
    boxes = sorted((*n.pos, *node_size(network, n.id, direction)) for n in network.nodes.values())
    count = 0
    for i, (x, y, w, h) in enumerate(boxes):
        for x2, y2, _, h2 in boxes[i + 1:]:
            if x2 >= x + w:
                break  # sorted by x: nothing further can overlap
            if y2 < y + h and y < y2 + h2:
                count += 1
    return count


def crossings(network: Network, direction: str = "down") -> int:
    """Pairs of wires (without a shared end) whose straight segments cross."""
    segs = [(e.src, e.dst, _ends(network, e.src, e.dst, direction)) for e in network.edges]
    return sum(1 for (a, b, s), (c, d, t) in combinations(segs, 2)
               if not {a, b} & {c, d} and _cross(*s, *t))


def _ends(network: Network, src: str, dst: str, direction: str) -> tuple[Point, Point]:
    (x1, y1), (x2, y2) = network.nodes[src].pos, network.nodes[dst].pos
    (w1, h1), (w2, h2) = node_size(network, src, direction), node_size(network, dst, direction)
    if direction == "down":
        return (x1 + w1 / 2, y1 + h1), (x2 + w2 / 2, y2)
    return (x1 + w1, y1 + h1 / 2), (x2, y2 + h2 / 2)


def _cross(p: Point, q: Point, r: Point, s: Point) -> bool:
    """True when segment p-q properly crosses segment r-s."""
    def side(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2, d3, d4 = side(r, s, p), side(r, s, q), side(p, q, r), side(p, q, s)
    return d1 * d2 < 0 and d3 * d4 < 0
