"""Compiling a network to a `torch.fx.GraphModule`.

The graph is built node by node from the analysis report (so every inferred
parameter is already known): an Input becomes a placeholder, a layer a call of
a submodule named after the node, a function layer (Add, Concat, ...) a plain
call, a block instance a nested GraphModule (an `nn.Sequential` of them when
repeated), and the Output nodes the returned value (a tuple, in the order the
Output nodes were added, when there are several: the main output first). The result prints as readable Python, scripts with
`torch.jit.script`, and runs as fast as a hand-written module.
"""

from __future__ import annotations

import keyword
import operator
import re

import torch
from torch import fx, nn

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.errors import StudioError
from studio.graph.analysis import Analyzer, Report
from studio.graph.network import Network
from studio.graph.project import Project


# Names a submodule cannot take: nn.Module's own attributes, and names generated code uses.
_RESERVED = set(dir(nn.Module())) | {"self", "torch", "nn", "operator", "math"}


class CompileError(StudioError):
    """A network that cannot be compiled yet; lists its problems."""


def compile_network(project: Project, network: str | None = None, analyzer: Analyzer | None = None) -> fx.GraphModule:
    """The network as a GraphModule with freshly initialised weights (on the CPU)."""
    analyzer = analyzer or Analyzer(project)
    net = project.network(network)
    report = analyzer.analyse(net.name)
    if report.problems:
        listed = "\n".join(f"  {p}" for p in report.problems[:5])
        more = f"\n  ... and {len(report.problems) - 5} more" if len(report.problems) > 5 else ""
        raise CompileError(f"network '{net.name}' has {len(report.problems)} problem(s):\n{listed}{more}")
    return build_module(project, net, report, class_name=class_name_for(net.name))


def compile_project(project: Project, analyzer: Analyzer | None = None) -> dict[str, fx.GraphModule]:
    """Every network of the project, compiled, keyed by network name."""
    analyzer = analyzer or Analyzer(project)
    return {name: compile_network(project, name, analyzer) for name in project.networks}


def build_module(project: Project, net: Network, report: Report, class_name: str = "Network",
                 functions: bool = True) -> fx.GraphModule:
    """A GraphModule for `net` from an error-free `report` of it.

    With `functions` False, layers that are both a function and a torch.nn module
    (ReLU, MaxPool2d, Flatten) become submodules: generated source then keeps a
    named module per node, so tracing it back gives the same node names.
    """
    graph = fx.Graph()
    root = nn.Module()
    names = attribute_names(net)
    values: dict[str, list[fx.Node]] = {}
    results = []
    order = {node_id: i for i, node_id in enumerate(net.nodes)}
    for node in net.iter_nodes():
        res = report.nodes[node.id]
        ins, outs = net.ports(node)
        args = _inputs(net, node, ins, values)
        name = names[node.id]
        if node.type == "Input":
            values[node.id] = [graph.placeholder(name)]
            continue
        if node.type == "Output":
            results.append((order[node.id], args[0]))
            continue
        if node.type == BLOCK_TYPE:
            root.add_module(name, _block_module(project, node, res, functions))
            out = graph.create_node("call_module", name, tuple(args), name=name)
        else:
            spec = catalog.get(node.type)
            if spec.is_function and (functions or spec.module is None):
                call_args = (list(args),) if spec.list_input else tuple(args)
                out = graph.create_node("call_function", spec.function, call_args,
                                        spec.kwargs_for_call(res.resolved), name=name)
            else:
                root.add_module(name, spec.make_module(res.resolved))
                out = graph.create_node("call_module", name, tuple(args), name=name)
        values[node.id] = _split(graph, out, outs, name)
    results = [value for _, value in sorted(results, key=lambda r: r[0])]  # outputs in the order they were added
    graph.output(results[0] if len(results) == 1 else tuple(results))
    gm = fx.GraphModule(root, graph, class_name=class_name)
    gm.graph.lint()
    return gm


def attribute_names(net: Network) -> dict[str, str]:
    """Node id -> a legal, unique Python identifier made from the node name."""
    taken: set[str] = set()
    names = {}
    for node in net.nodes.values():
        base = re.sub(r"\W", "_", node.name) or "node"
        if base[0].isdigit() or keyword.iskeyword(base) or base in _RESERVED:
            base = f"{base}_"
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        names[node.id] = name
    return names


def _inputs(net: Network, node, ins, values) -> list[fx.Node]:
    incoming = net.incoming(node.id)
    spec = None if node.type in (BLOCK_TYPE, "Input") else catalog.get(node.type)
    found: dict[str, fx.Node] = {}
    for port in ins:
        if port in incoming:
            e = incoming[port]
            found[port] = values[e.src][net.ports(net.node(e.src))[1].index(e.src_port)]
    for port in ins:
        if port not in found:
            found[port] = found[spec.fallback[port]]
    return [found[p] for p in ins]


def _split(graph: fx.Graph, out: fx.Node, ports, name: str) -> list[fx.Node]:
    if len(ports) <= 1:
        return [out]
    return [graph.create_node("call_function", operator.getitem, (out, i), name=f"{name}_{p}")
            for i, p in enumerate(ports)]


def _block_module(project: Project, node, res, functions: bool) -> nn.Module:
    block = project.block(res.resolved["block"])
    parts = [build_module(project, block.network, inner, class_name_for(block.name), functions) for inner in res.inner]
    return parts[0] if len(parts) == 1 else nn.Sequential(*parts)


def class_name_for(name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", name)
    camel = "".join(w[:1].upper() + w[1:] for w in words if w) or "Network"
    return f"N{camel}" if camel[0].isdigit() else camel


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of a module."""
    return sum(p.numel() for p in module.parameters())


def example_inputs(project: Project, network: str | None = None, batch: int = 2,
                   analyzer: Analyzer | None = None) -> tuple[torch.Tensor, ...]:
    """Random inputs of the right shapes and dtypes for a network, in placeholder order."""
    net = project.network(network)
    tensors = []
    for node in net.iter_nodes():
        if node.type == "Input":
            spec = catalog.get("Input")
            params = {**spec.defaults(), **node.params}
            shape = (batch, *params["shape"])
            if params["dtype"] == "long":
                high = _vocabulary(project, net, node, analyzer)
                tensors.append(torch.randint(0, high, shape))
            else:
                tensors.append(torch.randn(shape))
    return tuple(tensors)


def _vocabulary(project: Project, net: Network, node, analyzer) -> int:
    """The smallest embedding size among layers fed by an integer input (ids must fit all)."""
    sizes = [n.params.get("num_embeddings", catalog.get(n.type).defaults().get("num_embeddings", 2))
             for n in net.nodes.values() if n.id in net.downstream([node.id]) and n.type in ("Embedding", "EmbeddingBag")]
    sizes = [s for s in sizes if isinstance(s, int)]
    return min(sizes) if sizes else 2
