"""Copying a part of a network: nodes with the wires between them, as JSON-native data.

`copy_data(network, ids)` takes the chosen nodes and only the wires that run
between them; `paste(network, data, offset)` adds them again with fresh ids
(names kept when free, else made unique) and reconnects them, using network
primitives only, so one recorded change undoes it (`studio.graph.history`).
The Qt app carries this data on the system clipboard (`studio.ui.clipboard`).
"""

from __future__ import annotations

from studio.graph.network import Network


def copy_data(network: Network, node_ids) -> dict:
    """The chosen nodes and the wires between them, as JSON-native data."""
    ids = [i for i in node_ids if i in network.nodes]
    chosen = set(ids)
    nodes = [{"id": n.id, "type": n.type, "name": n.name, "params": n.params, "pos": list(n.pos)}
             for n in (network.nodes[i] for i in ids)]
    edges = sorted([e.src, e.src_port, e.dst, e.dst_port] for e in network.edges
                   if e.src in chosen and e.dst in chosen)
    return {"studio-clipboard": 1, "nodes": nodes, "edges": edges}


def paste(network: Network, data: dict, offset=(40.0, 40.0)) -> list[str]:
    """Adds the clipboard's nodes and inner wires to `network`; returns the new ids."""
    new_ids = {}
    for n in data.get("nodes", []):
        name = n["name"] if not any(m.name == n["name"] for m in network.nodes.values()) else network.unique_name(n["name"])
        pos = (n["pos"][0] + offset[0], n["pos"][1] + offset[1])
        new_ids[n["id"]] = network.add_node(n["type"], name, n.get("params", {}), pos)
    for src, sp, dst, dp in data.get("edges", []):
        if src in new_ids and dst in new_ids:
            network.connect(new_ids[src], sp, new_ids[dst], dp)
    return list(new_ids.values())
