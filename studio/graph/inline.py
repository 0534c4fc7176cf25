"""Blocks taken apart: ungroup a Block node into its layers, a flat copy of a network, find a node anywhere.

`ungroup` replaces one Block node by the layers of its definition, wired to
the node's neighbours as the block's Input and Output nodes were, once per
repetition; ``$expressions`` are evaluated with the node's arguments (or
rewritten in terms of the outer block's parameters when they refer to them).
It uses only network primitives, so one recorded change undoes it
(docs/architecture.md, "Where to add things"). `flat_copy` ungroups every
block of one network in a copy of the project: a read-only view of the whole
computation, as Netron draws it. `find_nodes` searches every network and
every block reachable from it for a node name and says how to get there (the
`levels` the editor's breadcrumb shows). `expand` is `ungroup` that remembers
the block, and `collapse_back` puts the Block node back in place of its
layers while they are still what the block holds: a block expanded in place.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

from studio.catalog import BLOCK_TYPE, is_expression
from studio.errors import GraphError
from studio.graph.analysis import network_scope
from studio.graph.expressions import ExpressionError, evaluate
from studio.graph.network import Network, Node
from studio.graph.project import BlockDef, Project
from studio.graph.wiring import STEP

MAX_FLAT_NODES = 20000  # a flat view past this is no view: refuse rather than hang


@dataclass(frozen=True)
class Expanded:
    """A Block node replaced by its layers, remembered so that `collapse_back` can put it back.

    Attributes:
        node: the Block node as it was (id, name, arguments, position).
        node_ids: the layers that replaced it, in order.
        entries: (layer id, input port) -> the block input that fed it.
        exits: (layer id, output port) -> the block output it gives.
        fingerprint: the layers' types, parameters and inner wires when expanded.
    """

    node: Node
    node_ids: tuple[str, ...]
    entries: dict
    exits: dict
    fingerprint: str


def ungroup(project: Project, network: Network, node_id: str) -> list[str]:
    """Replaces Block node `node_id` of `network` by its layers; returns the new node ids in order.

    Raises:
        GraphError: the node is not a block, or its repeat is an expression the network cannot evaluate.
    """
    return list(expand(project, network, node_id).node_ids)


def expand(project: Project, network: Network, node_id: str) -> Expanded:
    """`ungroup`, remembering what `collapse_back` needs."""
    node = copy.deepcopy(network.node(node_id))
    if node.type != BLOCK_TYPE:
        raise GraphError(f"{node.type} '{node.name}' is not a block; only a block can be ungrouped")
    block = project.block(node.params["block"])
    repeat = _repeat(network, node)
    ins, outs = block.ports()
    if repeat > 1 and (len(ins) != 1 or len(outs) != 1):
        raise GraphError(f"block '{node.name}' repeats a block with {len(ins)} inputs and {len(outs)} outputs; "
                         "set repeat to 1 first")
    scope = {**block.params, **{k: v for k, v in node.params.items() if k not in ("block", "repeat")}}
    feeds = {port: (e.src, e.src_port) for port, e in network.incoming(node_id).items()}
    exits = [(e.src_port, e.dst, e.dst_port) for e in network.outgoing(node_id)]
    axis, extent = _extent(block)
    _push_after(network, node, axis, extent * repeat - STEP[axis])
    origin, name = node.pos, node.name
    network.remove_node(node_id)
    added: list[str] = []
    entries: dict = {}
    for k in range(repeat):
        at = (origin[0] + k * extent * (axis == 0), origin[1] + k * extent * (axis == 1))
        results = _inline_once(network, block, feeds, scope, name, at, added, entries if k == 0 else {})
        feeds = {ins[0]: results[outs[0]]} if repeat > 1 else feeds
    for port, dst, dst_port in exits:
        if results.get(port) is not None:
            network.connect(*results[port], dst, dst_port)
    outputs = {src: port for port, src in results.items() if src is not None and src[0] in added}
    return Expanded(node, tuple(added), entries, outputs, _fingerprint(network, added))


def collapse_back(network: Network, group: Expanded) -> str:
    """Puts the Block node of an `Expanded` group back in place of its layers; returns its id.

    The wires that now feed the layers from outside, and those they feed,
    are kept. Raises GraphError when the layers changed since (types,
    parameters, wires among them): they no longer are that block.
    """
    ids = set(group.node_ids)
    if not ids <= network.nodes.keys() or _fingerprint(network, group.node_ids) != group.fingerprint:
        raise GraphError(f"the layers of block '{group.node.name}' changed since it was expanded; select them and "
                         "use Collapse into Block to make a new block of them")
    sources: dict[str, tuple[str, str]] = {}
    for nid in group.node_ids:
        for port, e in network.incoming(nid).items():
            if e.src in ids:
                continue
            name = group.entries.get((nid, port))
            if name is None or sources.setdefault(name, (e.src, e.src_port)) != (e.src, e.src_port):
                raise GraphError(f"'{network.node(nid).name}' is fed from outside block '{group.node.name}' "
                                 "where the block has no input; rewire it first")
    targets = [(group.exits.get((e.src, e.src_port)), e.dst, e.dst_port)
               for nid in group.node_ids for e in network.outgoing(nid) if e.dst not in ids]
    if any(t[0] is None for t in targets):
        raise GraphError(f"a layer of block '{group.node.name}' that is not one of its outputs feeds a layer "
                         "outside it; rewire it first")
    for nid in group.node_ids:
        network.remove_node(nid)
    n = group.node
    name = n.name if network.unique_name(n.name) == n.name else network.unique_name(n.name)
    block_id = network.add_node(BLOCK_TYPE, name, n.params, n.pos, id=None if n.id in network.nodes else n.id)
    for port, (src, src_port) in sources.items():
        network.connect(src, src_port, block_id, port)
    for port, dst, dst_port in targets:
        network.connect(block_id, port, dst, dst_port)
    return block_id


def _fingerprint(network: Network, node_ids) -> str:
    ids = set(node_ids)
    nodes = [(network.nodes[i].type, network.nodes[i].params) for i in node_ids]
    wires = sorted([e.src, e.src_port, e.dst, e.dst_port] for i in node_ids for e in network.outgoing(i) if e.dst in ids)
    return json.dumps([nodes, wires], sort_keys=True, default=str)


def _repeat(network: Network, node: Node) -> int:
    repeat = node.params.get("repeat", 1)
    if not is_expression(repeat):
        return repeat
    try:
        return int(evaluate(repeat, network_scope(network)))
    except ExpressionError:
        raise GraphError(f"block '{node.name}' repeats '{repeat}' times, which only the block around it "
                         "knows; set repeat to a number first") from None


def _inner_layers(block: BlockDef) -> list[Node]:
    return [n for n in block.network.iter_nodes() if n.role == "layer"]


def _extent(block: BlockDef) -> tuple[int, float]:
    """(axis, length) the block's layers take along their main direction of flow, plus a gap."""
    layers = _inner_layers(block) or list(block.network.nodes.values())
    xs, ys = [n.pos[0] for n in layers], [n.pos[1] for n in layers]
    axis = 0 if max(xs) - min(xs) >= max(ys) - min(ys) else 1
    span = (max(xs) - min(xs)) if axis == 0 else (max(ys) - min(ys))
    return axis, span + STEP[axis]


def _push_after(network: Network, node: Node, axis: int, by: float) -> None:
    """Moves what lies after `node` along `axis` by `by`, so the layers that replace it fit."""
    if by <= 0:
        return
    for nid in network.downstream([node.id]) - {node.id}:
        pos = list(network.node(nid).pos)
        if pos[axis] > node.pos[axis]:
            pos[axis] += by
            network.move(nid, tuple(pos))


def _inline_once(network: Network, block: BlockDef, feeds: dict, scope: dict, prefix: str, at, added: list,
                 entries: dict) -> dict:
    """Adds one copy of `block`'s layers fed by `feeds` (input name -> (node, port)); output name -> (node, port).

    `entries` gets (new layer id, port) -> input name for every layer an Input fed.
    """
    inner = block.network
    layers = _inner_layers(block)
    left = min((n.pos[0] for n in layers), default=0.0)
    top = min((n.pos[1] for n in layers), default=0.0)
    ids = {}
    for n in layers:
        name = n.name if network.unique_name(n.name) == n.name else network.unique_name(f"{prefix}_{n.name}")
        pos = (at[0] + n.pos[0] - left, at[1] + n.pos[1] - top)
        params = {k: substitute(v, scope) for k, v in n.params.items()}
        ids[n.id] = network.add_node(n.type, name, params, pos)
        added.append(ids[n.id])

    def source(src: str, port: str):
        node = inner.node(src)
        return feeds.get(node.name) if node.role == "input" else (ids[src], port)

    for e in sorted(inner.edges, key=lambda e: (e.dst, e.dst_port)):
        if e.dst not in ids:
            continue
        if inner.node(e.src).role == "input":
            entries[(ids[e.dst], e.dst_port)] = inner.node(e.src).name
        if source(e.src, e.src_port) is not None:
            network.connect(*source(e.src, e.src_port), ids[e.dst], e.dst_port)
    results = {}
    for n in inner.nodes.values():
        edge = inner.incoming(n.id).get("in") if n.role == "output" else None
        if edge is not None:
            results[n.name] = source(edge.src, edge.src_port)
    return results


_NAME = re.compile(r"\$?\b([A-Za-z_]\w*)\b")


def substitute(value, scope: dict):
    """`value` with the block parameters in `scope` put in: a plain value when nothing else is named.

    ``"$width * 4"`` with width 8 gives 32; with width ``"$w * 2"`` (the outer
    block's parameter) it gives ``"$(w * 2) * 4"``; names not in `scope`
    (``$classes``) stay as they are.
    """
    if isinstance(value, list):
        return [substitute(v, scope) for v in value]
    if not is_expression(value):
        return value
    names = set(_NAME.findall(value))
    known = {n: scope[n] for n in names if n in scope}
    if names == set(known) and not any(is_expression(v) for v in known.values()):
        return evaluate(value, known)
    return "$" + _NAME.sub(lambda m: _as_text(scope[m[1]]) if m[1] in scope else m[1], value[1:])


def _as_text(value) -> str:
    return f"({value[1:]})" if is_expression(value) else repr(value) if isinstance(value, str) else str(value)


def flat_copy(project: Project, network: str | None = None) -> Project:
    """A copy of `project` whose network `network` has every block, at every depth, ungrouped.

    Raises:
        GraphError: the flat network would pass `MAX_FLAT_NODES` nodes (or a block contains itself).
    """
    from studio.graph import io  # io imports this package's modules; import it when first needed

    flat = io.loads(io.dumps(project))
    net = flat.network(network)
    while True:
        blocks = [n.id for n in net.nodes.values() if n.type == BLOCK_TYPE]
        if not blocks:
            return flat
        for nid in blocks:
            ungroup(flat, net, nid)
        if len(net.nodes) > MAX_FLAT_NODES:
            raise GraphError(f"network '{net.name}' has more than {MAX_FLAT_NODES:,} layers with its blocks "
                             "opened; open the blocks one at a time instead")


@dataclass(frozen=True)
class Found:
    """A node found by `find_nodes`: the editor `levels` that show it, its id, name and type.

    `path` names the network and the Block nodes on the way down.
    """

    levels: tuple
    node_id: str
    name: str
    type: str
    path: tuple = ()

    @property
    def where(self) -> str:
        """The way down to it, by the names of the Block nodes: "main › layer2 › first"."""
        return " › ".join(self.path)


def find_nodes(project: Project, text: str, limit: int = 50) -> list[Found]:
    """Nodes whose name contains `text` (any case), in every network and every block under it.

    Exact names come first, then names starting with `text`, then the rest,
    shallow before deep; each block instance on the way counts as its own place.
    """
    needle = text.strip().lower()
    if not needle:
        return []
    found: list[tuple] = []

    def visit(net: Network, levels: tuple, path: tuple) -> None:
        for n in net.nodes.values():
            if len(found) >= limit * 4:
                return
            name = n.name.lower()
            if needle in name:
                rank = 0 if name == needle else 1 if name.startswith(needle) else 2
                found.append((rank, len(levels), len(found), Found(levels, n.id, n.name, n.type, path)))
            block = n.params.get("block") if n.type == BLOCK_TYPE else None
            if block in project.blocks and all(b != block for _, b, _ in levels[1:]) and len(levels) < 16:
                visit(project.blocks[block].network, levels + (("block", block, n.id),), path + (n.name,))

    for name, net in project.networks.items():
        visit(net, (("net", name, None),), (name,))
    return [f for *_, f in sorted(found, key=lambda t: t[:3])][:limit]
