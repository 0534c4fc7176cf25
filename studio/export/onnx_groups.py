"""One ONNX node per project layer: a layer the exporter wrote as several operators becomes a local function.

torch's exporter writes a transformer as ~340 primitive operators (MatMul,
Reshape, Transpose, ...); Netron, where users open ONNX files, draws them
all, ungrouped (it groups an ONNX graph only by its functions). `group`
gathers the operators of each layer (`onnx_names` knows which layer each
came from) into a model-local function named after the layer, in the domain
`DOMAIN`, and calls it once in the graph: Netron draws one node per layer,
and a double click opens it. onnxruntime inlines local functions when it
loads the file, so what runs is the same operators; the export is checked
on reload as before. Shape arithmetic that no layer owns ("sizes"), and a
layer whose operators hold subgraphs (If, Loop) stay as they are. Where
grouping would make a layer both feed and wait for another (a cycle), the
graph is left ungrouped.
"""

from __future__ import annotations

from collections import defaultdict

DOMAIN = "studio.layers"
UNOWNED = "sizes"


def group(model, layers: list[str]) -> bool:
    """Groups the nodes of `model` (an ONNX ModelProto) in place by `layers` (one layer name per node).

    Returns:
        Whether anything was grouped (False: the graph is as it was).
    """
    import onnx

    graph = model.graph
    layers = [top_layer(layer) for layer in layers]
    groups = _groups(graph, layers)
    if not groups:
        return False
    units = _units(graph, layers, groups)
    producer = {out: units[i] for i, n in enumerate(graph.node) for out in n.output if out}
    order = _order(graph, units, producer)
    if order is None:
        return False
    calls, functions = {}, []
    outside = _used_outside(graph, units, producer)
    for layer, members in groups.items():
        inputs, outputs = _boundary([graph.node[i] for i in members], outside[layer])
        functions.append(onnx.helper.make_function(
            DOMAIN, layer, inputs, outputs, [graph.node[i] for i in members], list(model.opset_import)))
        calls[layer] = onnx.helper.make_node(layer, inputs, outputs, name=layer, domain=DOMAIN)
    nodes = [calls[u] if isinstance(u, str) else graph.node[u] for u in order]
    del graph.node[:]
    graph.node.extend(nodes)
    seen = {v for n in nodes for v in n.output}
    kept = [v for v in graph.value_info if v.name in seen]  # a value inside a function is the function's own
    del graph.value_info[:]
    graph.value_info.extend(kept)
    model.functions.extend(functions)
    model.opset_import.append(onnx.helper.make_opsetid(DOMAIN, 1))
    return True


def top_layer(layer: str) -> str:
    """The network's node a layer belongs to: ``layer1`` for ``layer1.0.conv1`` (a block's inside), ``stem`` for
    ``stem.conv+stem.bn``."""
    return layer.split(".", 1)[0].split("+", 1)[0]


def _groups(graph, layers: list[str]) -> dict[str, list[int]]:
    """Layer -> the indices of its nodes, for layers of two or more nodes that may be grouped."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, layer in enumerate(layers):
        members[layer].append(i)
    nested = {layers[i] for i, n in enumerate(graph.node) if any(a.g.node or a.graphs for a in n.attribute)}
    return {layer: idx for layer, idx in members.items()
            if len(idx) > 1 and layer != UNOWNED and layer not in nested and layer.isprintable()}


def _units(graph, layers: list[str], groups: dict[str, list[int]]) -> list:
    """Per node: its group's layer name, or its own index when it stays a node of the graph."""
    return [layers[i] if layers[i] in groups else i for i in range(len(graph.node))]


def _order(graph, units: list, producer: dict) -> list | None:
    """The units (group names and node indices) in an order where each comes after what it reads; None if
    grouping made a cycle. Stable: a unit goes as early as its first node went."""
    import networkx as nx  # here, not at the top: the `studio` command starts without it

    first: dict = {}
    for i, u in enumerate(units):
        first.setdefault(u, i)
    reads = nx.DiGraph()
    reads.add_nodes_from(first)
    reads.add_edges_from((producer[v], units[i]) for i, n in enumerate(graph.node) for v in n.input
                         if v in producer and producer[v] != units[i])
    try:
        return list(nx.lexicographical_topological_sort(reads, key=first.get))
    except nx.NetworkXUnfeasible:
        return None


def _used_outside(graph, units: list, producer: dict) -> dict[str, set[str]]:
    """Layer -> the values its group makes that something outside it reads (another node, a graph output)."""
    used: dict[str, set[str]] = defaultdict(set)
    for i, n in enumerate(graph.node):
        for v in n.input:
            if v in producer and isinstance(producer[v], str) and producer[v] != units[i]:
                used[producer[v]].add(v)
    for out in graph.output:
        if isinstance(producer.get(out.name), str):
            used[producer[out.name]].add(out.name)
    return used


def _boundary(nodes, used_outside: set[str]) -> tuple[list[str], list[str]]:
    """(what the nodes read from outside, what they make that is read outside), each in first-use order."""
    made = {out for n in nodes for out in n.output if out}
    inputs = list(dict.fromkeys(v for n in nodes for v in n.input if v and v not in made))
    outputs = [out for n in nodes for out in n.output if out in used_outside]
    return inputs, outputs
