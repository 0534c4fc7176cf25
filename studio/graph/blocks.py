"""Block operations composed of the network primitives: collapse a selection, instantiate a block.

`collapse` moves a set of nodes into a new block definition and puts one Block
node in their place, wired as they were. Every change to the parent network
is made with its primitives, so listeners (the canvas, undo) see each step.
"""

from __future__ import annotations

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.errors import GraphError
from studio.graph.analysis import Analyzer
from studio.graph.network import Edge, Network
from studio.graph.project import BlockDef, Project


def instantiate(project: Project, network: Network, block: str, pos=(0.0, 0.0), name: str | None = None,
                repeat: int = 1, **args) -> str:
    """Adds a node that instantiates `block` and returns its id."""
    project.block(block)
    return network.add_node(BLOCK_TYPE, name or network.unique_name(block), {"block": block, "repeat": repeat, **args}, pos)


def collapse(project: Project, network: Network, node_ids, block_name: str) -> str:
    """Replaces the nodes `node_ids` of `network` by one Block node; returns its id.

    Each distinct source outside the selection that feeds it becomes an Input
    of the block (shaped as analysis found it), each output used outside
    becomes an Output.
    """
    selected = [network.node(i) for i in node_ids]
    if not selected:
        raise GraphError("select the nodes to put into a block first")
    if any(n.role != "layer" for n in selected):
        raise GraphError("a block cannot take the network's Input or Output nodes; leave them out of the selection")
    ids = {n.id for n in selected}
    entering = sorted((e for e in network.edges if e.dst in ids and e.src not in ids), key=_key)
    leaving = sorted((e for e in network.edges if e.src in ids and e.dst not in ids), key=_key)
    sources = list(dict.fromkeys((e.src, e.src_port) for e in entering))
    exits = list(dict.fromkeys((e.src, e.src_port) for e in leaving))
    report = Analyzer(project).analyse(network.name) if network.name in project.networks else None

    block = project.add_block(block_name, doc=f"collapsed from {', '.join(n.name for n in selected)}")
    _copy_inside(network, block, selected, ids, sources, exits, report)

    cx = sum(n.pos[0] for n in selected) / len(selected)
    cy = sum(n.pos[1] for n in selected) / len(selected)
    for n in selected:
        network.remove_node(n.id)
    node_id = instantiate(project, network, block_name, (cx, cy))
    in_names, out_names = block.ports()
    for e in entering:
        network.connect(e.src, e.src_port, node_id, in_names[sources.index((e.src, e.src_port))])
    for e in leaving:
        network.connect(node_id, out_names[exits.index((e.src, e.src_port))], e.dst, e.dst_port)
    return node_id


def _copy_inside(network: Network, block: BlockDef, selected, ids, sources, exits, report) -> None:
    inner = block.network
    left = min(n.pos[0] for n in selected)
    top = min(n.pos[1] for n in selected)
    for n in selected:
        inner.add_node(n.type, n.name, n.params, (n.pos[0] - left + 200, n.pos[1] - top), id=n.id)
    for e in network.edges:
        if e.src in ids and e.dst in ids:
            inner.connect(e.src, e.src_port, e.dst, e.dst_port)
    for i, (src, port) in enumerate(sources):
        params = {}
        if report and report.nodes[src].status == "ok":
            params = {"shape": list(report.nodes[src].outputs[port]),
                      "dtype": report.nodes[src].dtypes[port]}
        nid = inner.add_node(catalog.INPUT, inner.unique_name("x" if i == 0 else f"x{i + 1}"), params, (0, 120 * i))
        for e in network.edges:
            if e.dst in ids and (e.src, e.src_port) == (src, port):
                inner.connect(nid, "out", e.dst, e.dst_port)
    right = max(n.pos[0] for n in selected) - left + 400
    for i, (src, port) in enumerate(exits):
        nid = inner.add_node(catalog.OUTPUT, inner.unique_name("y" if i == 0 else f"y{i + 1}"), {}, (right, 120 * i))
        inner.connect(src, port, nid, "in")


def _key(e: Edge):
    return (e.src, e.src_port, e.dst, e.dst_port)
