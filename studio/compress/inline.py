"""Block instances expanded into their layers, so each copy of a block can be edited on its own.

Structured pruning gives every layer its own channel count, which a shared,
repeated block definition cannot hold (docs/architecture.md: "Blocks are
parametrised subgraphs"). `inline_blocks` returns a copy of the project whose
network has no Block nodes: every layer of every instance (and of every
repetition) becomes a node named after its dotted path (``layer1.0.conv1.conv``
becomes ``layer1_0_conv1_conv``) with the parameters the analysis resolved
for it, and `rename_state` carries the trained weights over to those names.
"""

from __future__ import annotations

from studio.catalog import BLOCK_TYPE
from studio.compile.fx import attribute_names
from studio.graph import Network, Project, io
from studio.graph.analysis import Analyzer, Report
from studio.graph.layout import flow_of, layered

Source = tuple[str, str]  # (node id in the flat network, output port)


def has_blocks(project: Project, network: str) -> bool:
    """True when the network holds a Block node."""
    return any(n.type == BLOCK_TYPE for n in project.network(network).nodes.values())


def inline_blocks(project: Project, network: str) -> tuple[Project, dict[str, str]]:
    """(a copy with `network`'s blocks expanded, {flat node id: the layer's dotted module path})."""
    report = Analyzer(project).analyse(network)
    flat = _Flattener(project)
    flat.emit(project.network(network), report, "", None)
    data = io.to_dict(project)
    data["networks"][network] = {"nodes": flat.nodes, "edges": flat.edges}
    if len(project.networks) == 1:
        data["blocks"] = {}
    copy = io.from_dict(data, f"project '{project.name}'")
    net = copy.network(network)
    for nid, pos in layered(net, flow_of(project)).items():
        net.move(nid, pos)
    return copy, flat.paths


def rename_state(state: dict, flat: Network, paths: dict[str, str]) -> dict:
    """The trained weights (nested module keys) under the flat network's names."""
    names = attribute_names(flat)
    renamed = {}
    for nid, path in paths.items():
        prefix = path + "."
        for key, value in state.items():
            if key.startswith(prefix):
                renamed[names[nid] + "." + key[len(prefix):]] = value
    return renamed


class _Flattener:
    """Writes the layers of a network and, recursively, of its blocks as plain node and edge records."""

    def __init__(self, project: Project):
        self.project = project
        self.nodes: list[dict] = []
        self.edges: list[list[str]] = []
        self.paths: dict[str, str] = {}

    def emit(self, net: Network, report: Report, prefix: str, feeds: dict[str, Source] | None) -> dict[str, Source]:
        """Emits `net` (top level when `feeds` is None); its Output name -> what feeds it."""
        names = attribute_names(net)
        values: dict[str, dict[str, Source]] = {}
        outputs: dict[str, Source] = {}
        for node in net.iter_nodes():
            path = prefix + names[node.id]
            sources = {port: values[e.src][e.src_port] for port, e in net.incoming(node.id).items()}
            if feeds is not None and node.role == "input":
                values[node.id] = {port: feeds[node.name] for port in net.ports(node)[1]}
            elif feeds is not None and node.role == "output":
                outputs[node.name] = sources["in"]
            elif node.type == BLOCK_TYPE:
                values[node.id] = self._block(report.nodes[node.id], path, sources)
            else:
                values[node.id] = self._layer(net, node, report, path, sources, top=feeds is None)
        return outputs

    def _layer(self, net: Network, node, report: Report, path: str, sources, top: bool) -> dict[str, Source]:
        res = report.nodes[node.id]
        nid = node.id if top else path.replace(".", "_")
        params = dict(node.params) if top else {k: v for k, v in res.resolved.items() if k not in res.inferred}
        self.nodes.append({"id": nid, "type": node.type, "name": node.name if top else nid,
                           "params": params, "pos": list(node.pos)})
        self.paths[nid] = path
        for port, (src, src_port) in sources.items():
            self.edges.append([src, src_port, nid, port])
        return {port: (nid, port) for port in net.ports(node)[1]}

    def _block(self, res, path: str, sources: dict[str, Source]) -> dict[str, Source]:
        inner_net = self.project.block(res.resolved["block"]).network
        ins = [n.name for n in inner_net.inputs()]
        outs = [n.name for n in inner_net.outputs()]
        feeds = sources
        for i, inner in enumerate(res.inner):  # a repeated block: each copy feeds the next
            result = self.emit(inner_net, inner, f"{path}.{i}." if len(res.inner) > 1 else f"{path}.", feeds)
            feeds = {name: result[out] for name, out in zip(ins, outs)}
        return result
