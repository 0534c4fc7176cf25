"""Compiling a network to a `torch.fx.GraphModule`.

The graph is built node by node from the analysis report (so every inferred
parameter is already known): an Input becomes a placeholder, a layer a call of
a submodule named after the node, a function layer (Add, Concat, ...) a plain
call, a block instance its own layers inlined into the graph (their submodules
nested under the instance's name, ``stage1.0.conv1``), and the Output nodes
the returned value (a tuple, in the order the Output nodes were added, when
there are several: the main output first). The result prints as readable
Python, scripts with `torch.jit.script`, and runs as fast as a hand-written
module.
"""

from __future__ import annotations

import keyword
import operator
import re
import unicodedata

import torch
from torch import fx, nn

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.errors import StudioError
from studio.graph.analysis import Analyzer, Report
from studio.graph.footprint import weight_bytes
from studio.graph.network import Network
from studio.graph.project import Project
from studio.system import collection_paused, require_memory


# Names a submodule cannot take: nn.Module's own attributes, and names generated code uses.
_RESERVED = set(dir(nn.Module())) | {"self", "torch", "nn", "operator", "math"}


class CompileError(StudioError):
    """A network that cannot be compiled yet; lists its problems."""


def compile_network(project: Project, network: str | None = None, analyzer: Analyzer | None = None) -> fx.GraphModule:
    """The network as a GraphModule with freshly initialised weights (on the CPU)."""
    with collection_paused():
        analyzer = analyzer or Analyzer(project)
        net = project.network(network)
        report = analyzer.analyse(net.name)
        if report.problems:
            listed = "\n".join(f"  {p}" for p in report.problems[:5])
            more = f"\n  ... and {len(report.problems) - 5} more" if len(report.problems) > 5 else ""
            raise CompileError(f"network '{net.name}' has {len(report.problems)} problem(s):\n{listed}{more}")
        require_memory(weight_bytes(report), f"network '{net.name}' ({report.total_params:,} parameters)",
                       "make it smaller (fewer or narrower layers)")
        return build_module(project, net, report, class_name=class_name_for(net.name))




def compile_project(project: Project, analyzer: Analyzer | None = None) -> dict[str, fx.GraphModule]:
    """Every network of the project, compiled, keyed by network name."""
    analyzer = analyzer or Analyzer(project)
    return {name: compile_network(project, name, analyzer) for name in project.networks}


def build_module(project: Project, net: Network, report: Report, class_name: str = "Network",
                 functions: bool = True, inline: bool = True) -> fx.GraphModule:
    """A GraphModule for `net` from an error-free `report` of it.

    With `inline` (the default) block instances are emitted into this one graph
    while their layers stay in nested submodules (``stage1.0.conv1``): the
    state_dict keys are those of nested modules, but a forward pass makes no
    extra Python call per block, which shows at small inputs (a ResNet at 32×32).
    Without it each block instance is a GraphModule of its own, as generated
    source shows it.

    With `functions` False, layers that are both a function and a torch.nn module
    (ReLU, MaxPool2d, Flatten) become submodules: generated source then keeps a
    named module per node, so tracing it back gives the same node names.
    """
    emitter = _Emitter(project, functions, inline)
    results = emitter.network(net, report, "", None)
    graph = emitter.graph
    graph.output(results[0] if len(results) == 1 else tuple(results))
    gm = fx.GraphModule(emitter.root, graph, class_name=class_name)
    gm.graph.lint()
    return gm


class _Emitter:
    """Writes the nodes of a network (and, inlined, of its blocks) into one fx graph."""

    def __init__(self, project: Project, functions: bool, inline: bool):
        self.project, self.functions, self.inline = project, functions, inline
        self.graph = fx.Graph()
        self.root = nn.Module()

    def network(self, net: Network, report: Report, prefix: str, args: list[fx.Node] | None) -> list[fx.Node]:
        """Emit `net` with submodules under `prefix`; its Inputs are `args` (placeholders when None).

        Returns the values of its Output nodes, in the order they were added.
        """
        names = attribute_names(net)
        feed = None if args is None else iter(args)
        values: dict[str, list[fx.Node]] = {}
        results = []
        order = {node_id: i for i, node_id in enumerate(net.nodes)}
        for node in net.iter_nodes():
            ins, outs = net.ports(node)
            path = prefix + names[node.id]
            if node.role == "input":
                values[node.id] = [self.graph.placeholder(path) if feed is None else next(feed)]
                continue
            call_args = _inputs(net, node, ins, values)
            if node.role == "output":
                results.append((order[node.id], call_args[0]))
            elif node.type == BLOCK_TYPE and self.inline:
                values[node.id] = self._inline_block(report.nodes[node.id], path, call_args)
            else:
                out = self._call(node, report.nodes[node.id], path, call_args)
                values[node.id] = _split(self.graph, out, outs, _flat(path))
        return [value for _, value in sorted(results, key=lambda r: r[0])]

    def _call(self, node, res, path: str, args: list[fx.Node]) -> fx.Node:
        if node.type == BLOCK_TYPE:
            return self._call_module(_block_module(self.project, res, self.functions), path, args)
        spec = catalog.get(node.type)
        if spec.is_function and (self.functions or spec.module is None):
            call_args = (list(args),) if spec.list_input else tuple(args)
            node = self.graph.create_node("call_function", spec.function, call_args,
                                          spec.kwargs_for_call(res.resolved), name=_flat(path))
            node.meta["path"] = path  # the layer's dotted path, as a module's target is (exports name it so)
            return node
        return self._call_module(spec.make_module(res.resolved), path, args)

    def _call_module(self, module: nn.Module, path: str, args: list[fx.Node]) -> fx.Node:
        *parents, leaf = path.split(".")
        owner = self.root
        for part in parents:
            if not hasattr(owner, part):
                owner.add_module(part, nn.Module())
            owner = getattr(owner, part)
        owner.add_module(leaf, module)
        return self.graph.create_node("call_module", path, tuple(args), name=_flat(path))

    def _inline_block(self, res, path: str, args: list[fx.Node]) -> list[fx.Node]:
        net = self.project.block(res.resolved["block"]).network
        if len(res.inner) == 1:
            return self.network(net, res.inner[0], f"{path}.", args)
        for i, inner in enumerate(res.inner):  # a repeated block: each copy feeds the next
            args = self.network(net, inner, f"{path}.{i}.", args)
        return args


def _flat(path: str) -> str:
    return path.replace(".", "_")


def attribute_names(net: Network) -> dict[str, str]:
    """Node id -> a legal, unique Python identifier made from the node name."""
    taken: set[str] = set()
    names = {}
    for node in net.nodes.values():
        base = re.sub(r"\W", "_", node.name) or "node"
        if not ("a" + base).isidentifier() or unicodedata.normalize("NFKC", base) != base:
            # Python reads identifiers in NFKC form ("ﬁ" as "fi"): keep only names it reads back unchanged.
            base = re.sub(r"[^0-9A-Za-z_]", "_", base)
        if base.startswith("__"):  # self.__x inside a class body is name-mangled to self._Class__x
            base = "n" + base
        if base[0].isdigit():
            base = f"n_{base}"
        if keyword.iskeyword(base) or base in _RESERVED:
            base = f"{base}_"
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        names[node.id] = name
    return names


def _inputs(net: Network, node, ins, values) -> list[fx.Node]:
    sources = net.input_sources(node)
    return [values[src][index] for src, index in (sources[p] for p in ins)]


def _split(graph: fx.Graph, out: fx.Node, ports, name: str) -> list[fx.Node]:
    if len(ports) <= 1:
        return [out]
    return [graph.create_node("call_function", operator.getitem, (out, i), name=f"{name}_{p}")
            for i, p in enumerate(ports)]


def _block_module(project: Project, res, functions: bool) -> nn.Module:
    block = project.block(res.resolved["block"])
    parts = [build_module(project, block.network, inner, class_name_for(block.name), functions, inline=False)
             for inner in res.inner]
    return parts[0] if len(parts) == 1 else nn.Sequential(*parts)


def class_name_for(name: str) -> str:
    """A CamelCase class name made of the ASCII letters and digits of `name`."""
    words = re.split(r"[^A-Za-z0-9]+", name)
    camel = "".join(w[:1].upper() + w[1:] for w in words if w) or "Network"
    return f"N{camel}" if camel[0].isdigit() else camel


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of a module."""
    return sum(p.numel() for p in module.parameters())


def example_inputs(project: Project, network: str | None = None, batch: int = 2,
                   analyzer: Analyzer | None = None, shapes: dict[str, list[int]] | None = None
                   ) -> tuple[torch.Tensor, ...]:
    """Random inputs of the right shapes and dtypes for a network, in placeholder order.

    `shapes` gives other sample shapes (no batch) by Input node name.
    """
    net = project.network(network)
    tensors = []
    for node in net.iter_nodes():
        if node.role == "input":
            spec = catalog.get(catalog.INPUT)
            params = spec.with_defaults(node.params)
            shape = (batch, *(shapes or {}).get(node.name, params["shape"]))
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
