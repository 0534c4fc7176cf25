"""Auto-layout: layered, left to right.

`layered(network)` gives every node a position: its layer is the length of the
longest path from a source (networkx's topological generations refined by
longest path), so data flows left to right; inside a layer nodes are ordered
by the mean row of their inputs (one barycentre sweep), which keeps chains
straight and few wires crossing. Long chains wrap onto new rows after
`wrap` layers so a 600-node ResNet does not become one 100,000-pixel line.
"""

from __future__ import annotations

from studio.graph.network import Network

DX = 230.0  # column pitch: a node is 132 wide, the rest is room for a shape label such as 2048×7×7
DY = 120.0  # row pitch


def layered(network: Network, wrap: int = 0) -> dict[str, tuple[float, float]]:
    """New positions {node id: (x, y)}; `wrap` > 0 starts a new band every `wrap` layers."""
    order = network.topological_order()
    layer: dict[str, int] = {}
    for nid in order:
        ins = [e.src for e in network.incoming(nid).values()]
        layer[nid] = max((layer[s] + 1 for s in ins), default=0)
    # Pull sources right next to their first consumer, so a lone Input sits beside what it feeds.
    for nid in reversed(order):
        outs = [e.dst for e in network.outgoing(nid)]
        if outs and not network.incoming(nid):
            layer[nid] = min(layer[d] for d in outs) - 1
    columns: dict[int, list[str]] = {}
    for nid in order:
        columns.setdefault(layer[nid], []).append(nid)
    row: dict[str, float] = {}
    for col in sorted(columns):
        ids = columns[col]
        def bary(nid: str, i: int) -> float:
            ins = [row[e.src] for e in network.incoming(nid).values() if e.src in row]
            return sum(ins) / len(ins) if ins else float(i)
        keyed = sorted(((bary(n, i), i, n) for i, n in enumerate(ids)))
        used: set[int] = set()
        for want, _, nid in keyed:
            r = max(0, round(want))
            while r in used:
                r += 1
            used.add(r)
            row[nid] = float(r)
    first = min(columns) if columns else 0
    band_rows = (max(row.values()) + 2) if row else 1
    out = {}
    for nid in order:
        col = layer[nid] - first
        band, col = divmod(col, wrap) if wrap > 0 else (0, col)
        out[nid] = (col * DX, (row[nid] + band * band_rows) * DY)
    return out
